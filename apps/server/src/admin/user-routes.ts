import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import { RoleUpdateRequest, UserListQuery, UserListResponse, UserResponse } from "@robo402/protocol";
import { type AuthEnv, authenticate, requireRole } from "../auth/middleware.ts";
import type { AuthService } from "../auth/service.ts";
import { userResponse } from "../auth/user-response.ts";
import { validationHook } from "../http/errors.ts";
import { adminErrors, bearer, describeBearer, errors, json } from "../http/openapi.ts";

/** What every admin route may refuse. */
const list = createRoute({
  method: "get",
  path: "/users",
  summary: "Accounts, newest first: search by email, filter by role",
  security: bearer,
  request: { query: UserListQuery },
  responses: {
    200: json(UserListResponse, "A page of accounts and how many match"),
    ...adminErrors,
    ...errors({ 422: "role, limit or offset is invalid" }),
  },
});

const setRole = createRoute({
  method: "patch",
  path: "/users/{id}",
  summary: "Change an account's role",
  description:
    "The account's earlier access tokens are refused from then on: it logs in again to act in its new role.",
  security: bearer,
  request: {
    params: z.object({ id: z.uuid("must be an account id (a UUID)") }),
    body: { content: { "application/json": { schema: RoleUpdateRequest } }, required: true },
  },
  responses: {
    200: json(UserResponse, "The account with its new role"),
    ...adminErrors,
    ...errors({
      404: "No account with this id",
      409: "It is the last admin account",
      422: "role or id is invalid",
    }),
  },
});

/** `/api/admin/users*`: the admin's user management. Mount at `/api/admin`. */
export function adminUserRoutes(auth: AuthService) {
  const app = new OpenAPIHono<AuthEnv>({ defaultHook: validationHook });
  describeBearer(app);
  app.use("/users", authenticate(auth), requireRole("admin"));
  app.use("/users/*", authenticate(auth), requireRole("admin"));
  return app
    .openapi(list, async (c) => {
      const found = await auth.listUsers(c.req.valid("query"));
      return c.json({ users: found.users.map(userResponse), total: found.total }, 200);
    })
    .openapi(setRole, async (c) => {
      const user = await auth.setRole(c.req.valid("param").id, c.req.valid("json").role);
      return c.json(userResponse(user), 200);
    });
}
