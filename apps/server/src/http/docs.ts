import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { join } from "node:path";
import { Hono } from "hono";

// Swagger UI from its npm package, served by the platform itself: the reference works offline.
const uiDir = (
  createRequire(import.meta.url)("swagger-ui-dist") as { getAbsoluteFSPath(): string }
).getAbsoluteFSPath();
const ASSETS: Record<string, string> = {
  "swagger-ui.css": "text/css; charset=utf-8",
  "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
  "favicon-32x32.png": "image/png",
};

const PAGE = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>robo402 API reference</title>
  <link rel="stylesheet" href="/docs/assets/swagger-ui.css">
  <link rel="icon" href="/docs/assets/favicon-32x32.png">
</head>
<body>
  <main id="reference"></main>
  <script src="/docs/assets/swagger-ui-bundle.js"></script>
  <script src="/docs/init.js"></script>
</body>
</html>`;

const INIT = `window.ui = SwaggerUIBundle({ url: "/openapi.json", dom_id: "#reference", deepLinking: true });`;

/** `/docs`: the API reference page over `/openapi.json`. */
export function docsRoutes() {
  return new Hono()
    .get("/docs", (c) => c.html(PAGE))
    .get("/docs/init.js", (c) => c.body(INIT, 200, { "content-type": "text/javascript; charset=utf-8" }))
    .get("/docs/assets/:file", async (c) => {
      const file = c.req.param("file");
      const type = ASSETS[file];
      if (!type) return c.json({ detail: "Not Found" }, 404);
      const body = await readFile(join(uiDir, file));
      return c.body(body, 200, { "content-type": type, "cache-control": "public, max-age=86400" });
    });
}
