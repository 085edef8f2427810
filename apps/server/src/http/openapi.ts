import type { OpenAPIHono } from "@hono/zod-openapi";
import { ErrorResponse } from "@robo402/protocol";
import type { Env } from "hono";
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

/** The `security` of a route that takes an access token. */
export const bearer = [{ bearerAuth: [] }];

/** Describes `bearerAuth` in the OpenAPI document of `app` (and of any app it is routed into). */
export function describeBearer<E extends Env>(app: OpenAPIHono<E>) {
  app.openAPIRegistry.registerComponent("securitySchemes", "bearerAuth", {
    type: "http",
    scheme: "bearer",
    bearerFormat: "JWT",
    description: "The access_token from POST /api/auth/register or /api/auth/login",
  });
}

/** What every admin route may answer besides its own: the caller is not signed in, or not an admin. */
export const adminErrors = errors({
  401: "Not signed in, or a bad token",
  403: "The caller is not an admin",
});
