// /api/docs: the interactive API reference (Redoc's standalone bundle, served from node_modules — no CDN) over
// /api/v1/openapi.json. Scripts stay limited to this site. Redoc's styled-components writes <style> elements that a
// strict style-src blocks (the page then shows only "Something went wrong", and a nonce is not honoured for all of
// them), so this one page, which shows nothing secret, allows inline styles; its search runs in a blob: worker.
import path from "node:path";
import express from "express";
import { projectRoot } from "../../lib/paths";
import { inputRouter } from "../../web/input";

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
  const r = inputRouter();
  r.router.use(
    "/static/redoc",
    express.static(path.join(projectRoot, "node_modules", "redoc", "bundles"), { maxAge: "7d", index: false }),
  );
  r.get("/api/docs", {}, (_req, res) => {
    const csp = String(res.getHeader("Content-Security-Policy") ?? "");
    const relaxed = csp.replace("style-src 'self'", "style-src 'self' 'unsafe-inline'");
    if (csp) res.setHeader("Content-Security-Policy", `${relaxed};worker-src 'self' blob:`);
    res.type("html").send(PAGE);
  });
  return r.router;
}
