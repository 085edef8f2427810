import { z } from "zod";

/** A refusal the caller can act on: the HTTP status and the sentence that goes into `{"detail": …}`. */
export class ServiceError extends Error {
  constructor(
    readonly status: number,
    readonly detail: string,
  ) {
    super(detail);
    this.name = "ServiceError";
  }
}

/** What `GET /` publishes about a service, so a marketplace can list it for x402 discovery. */
export interface ServiceDescription {
  name: string;
  description: string;
  input_schema: unknown;
  output_schema: unknown;
}

export interface Service {
  readonly name: string;
  describe(): ServiceDescription;
  /** Checks the caller's input and runs the service; throws ServiceError when the caller can fix it. */
  run(input: unknown, signal: AbortSignal): Promise<unknown>;
}

// Enough for a person to find the field without drowning in a long list of the same mistake.
const MAX_ISSUES = 3;

export function describeIssues(error: z.ZodError, root: string): string {
  return error.issues
    .slice(0, MAX_ISSUES)
    .map((issue) => `${[root, ...issue.path.map(String)].join(".")}: ${issue.message}`)
    .join("; ");
}

/** Ties a service's schemas to its work, so its input is checked and its schemas published the same way. */
export function defineService<I, O>(definition: {
  name: string;
  description: string;
  input: z.ZodType<I>;
  output: z.ZodType<O>;
  run(input: I, signal: AbortSignal): Promise<O>;
}): Service {
  const { name, description, input, output } = definition;
  return {
    name,
    describe: () => ({
      name,
      description,
      input_schema: z.toJSONSchema(input, { io: "input" }),
      output_schema: z.toJSONSchema(output, { io: "output" }),
    }),
    run(raw, signal) {
      const parsed = input.safeParse(raw);
      if (!parsed.success) throw new ServiceError(422, describeIssues(parsed.error, "input"));
      return definition.run(parsed.data, signal);
    },
  };
}
