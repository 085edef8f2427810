import { z } from "zod";

/** One failed field, shaped like FastAPI's validation errors so the plan's clients can read them. */
export const ValidationIssue = z.object({
  type: z.string(),
  loc: z.array(z.union([z.string(), z.number()])),
  msg: z.string(),
});
export type ValidationIssue = z.infer<typeof ValidationIssue>;

/** Every error the API returns: a sentence, or (422 only) the list of fields that failed. */
export const ErrorResponse = z.object({
  detail: z.union([z.string(), z.array(ValidationIssue)]),
});
export type ErrorResponse = z.infer<typeof ErrorResponse>;
