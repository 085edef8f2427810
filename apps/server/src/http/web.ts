import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { serveStatic } from "@hono/node-server/serve-static";
import { Hono } from "hono";

/** Where `npm run build` puts the portals (apps/web's Vite output). */
export const WEB_DIST = fileURLToPath(new URL("../../../web/dist", import.meta.url));

// Paths the API owns: an unknown one stays a JSON 404 instead of becoming the SPA's page.
const API_PATHS = /^\/(api|ws)(\/|$)|^\/(docs|openapi\.json|health|metrics)(\/|$)/;

/**
 * The portals: static files from `dir`, and index.html for any other GET a browser makes, so a reload on
 * a client-side route (/robots/abc) works. Mount it last. Without a build, it answers nothing.
 */
export function webRoutes(dir: string) {
  const web = new Hono();
  if (!existsSync(dir)) return web;
  const root = path.relative(process.cwd(), path.resolve(dir)) || ".";
  const index = path.join(dir, "index.html");
  return web
    .use("/assets/*", async (c, next) => {
      await next();
      // Vite names assets by their content hash, so a given URL never changes.
      if (c.res.status === 200) c.res.headers.set("cache-control", "public, max-age=31536000, immutable");
    })
    .get("*", async (c, next) => {
      if (API_PATHS.test(c.req.path)) return next();
      return serveStatic({ root })(c, next);
    })
    .get("*", async (c, next) => {
      if (API_PATHS.test(c.req.path)) return next();
      let html: string;
      try {
        html = await readFile(index, "utf8");
      } catch {
        return next();
      }
      c.header("cache-control", "no-cache");
      return c.html(html);
    });
}
