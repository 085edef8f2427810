import { ErrorResponse } from "@robo402/protocol";
import type { ZodType } from "zod";

export const json = <T extends ZodType>(schema: T, description: string) => ({
  content: { "application/json": { schema } },
  description,
});

/** The error answers a route can give, each a `{"detail": …}` body. */
export function errors<const C extends number>(described: Record<C, string>) {
  return Object.fromEntries(
    Object.entries(described).map(([code, description]) => [
      code,
      json(ErrorResponse, description as string),
    ]),
  ) as Record<C, ReturnType<typeof json<typeof ErrorResponse>>>;
}
