// /api/docs: the interactive API reference (Redoc's standalone bundle, served from node_modules — no CDN) over
// /api/v1/openapi.json. The page keeps the site's Content-Security-Policy (scripts from this site only); Redoc
// adds its styles through the CSSOM, and search runs in a blob: worker, so only `worker-src blob:` is added.
import path from "node:path";
import express, { Router } from "express";
import { projectRoot } from "../../lib/paths";

const PAGE = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Bridge Credits payments API reference</title>
</head>
<body>
  <noscript>
    <p>The interactive reference needs JavaScript. The API is described by its OpenAPI document:
      <a href="/api/v1/openapi.json">/api/v1/openapi.json</a>.</p>
  </noscript>
  <redoc spec-url="/api/v1/openapi.json" hide-download-button="false"></redoc>
  <script src="/static/redoc/redoc.standalone.js"></script>
</body>
</html>`;

export function apiDocsRoutes() {
  const r = Router();
  r.use(
    "/static/redoc",
    express.static(path.join(projectRoot, "node_modules", "redoc", "bundles"), { maxAge: "7d", index: false }),
  );
  r.get("/api/docs", (_req, res) => {
    const csp = String(res.getHeader("Content-Security-Policy") ?? "");
    if (csp) res.setHeader("Content-Security-Policy", `${csp};worker-src 'self' blob:`);
    res.type("html").send(PAGE);
  });
  return r;
}
