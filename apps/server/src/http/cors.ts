import type { MiddlewareHandler } from "hono";

export interface CorsOptions {
  /** The browser origins allowed to call the API with credentials, e.g. `http://localhost:5173`. */
  readonly origins: readonly string[];
  /** The answer's headers a browser script may read (x402's PAYMENT-REQUIRED…). */
  readonly exposeHeaders: readonly string[];
}

const ALLOW_METHODS = "GET,HEAD,PUT,POST,DELETE,PATCH";
const MAX_AGE_SECONDS = "600";

/**
 * CORS for an allow-list of origins, with credentials. Not `hono/cors`: it writes its headers through a
 * Response made before the route's own and through `c.header` after it, and on Node each of those builds
 * a whole fetch Response from the server's lightweight one: two per request, a motor command's included.
 * Here a preflight is answered at once and every other answer gets its headers on its own Headers.
 */
export function cors({ origins, exposeHeaders }: CorsOptions): MiddlewareHandler {
  const allowed = new Set(origins);
  const exposed = exposeHeaders.join(",");
  return async (c, next) => {
    const origin = c.req.header("origin");
    const granted = origin !== undefined && allowed.has(origin) ? origin : undefined;
    if (c.req.method === "OPTIONS" && c.req.header("access-control-request-method") !== undefined) {
      const headers = new Headers({ Vary: "Origin, Access-Control-Request-Headers" });
      if (granted) {
        headers.set("Access-Control-Allow-Origin", granted);
        headers.set("Access-Control-Allow-Credentials", "true");
        headers.set("Access-Control-Allow-Methods", ALLOW_METHODS);
        headers.set("Access-Control-Max-Age", MAX_AGE_SECONDS);
        const asked = c.req.header("access-control-request-headers");
        if (asked) headers.set("Access-Control-Allow-Headers", asked);
      }
      return new Response(null, { status: 204, headers });
    }
    await next();
    const headers = c.res.headers;
    headers.append("Vary", "Origin");
    if (!granted) return;
    headers.set("Access-Control-Allow-Origin", granted);
    headers.set("Access-Control-Allow-Credentials", "true");
    if (exposed) headers.set("Access-Control-Expose-Headers", exposed);
  };
}
