// The API reference page and the OpenAPI document are served from this site (no CDN), under the strict CSP.
import request from "supertest";
import { startTestApp, type TestApp } from "../helpers/app";

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

test("/api/docs loads Redoc from node_modules over /api/v1/openapi.json; scripts stay limited to this site", async () => {
  const page = await request(t.app).get("/api/docs");
  expect(page.status).toBe(200);
  expect(page.text).toContain('<script src="/static/redoc/redoc.standalone.js"></script>');
  expect(page.text).toContain('spec-url="/api/v1/openapi.json"');
  expect(page.text).not.toMatch(/https?:\/\/(?!bridgecredits)/);
  const csp = String(page.headers["content-security-policy"]);
  expect(csp).toMatch(/script-src 'self'( https:\/\/js\.stripe\.com)?;/);
  // Inline styles only (Redoc's styled-components); scripts never inline.
  expect(csp).toMatch(/style-src 'self' 'unsafe-inline';/);
  expect(csp.replace("style-src 'self' 'unsafe-inline'", "")).not.toContain("unsafe");
  const bundle = await request(t.app).get("/static/redoc/redoc.standalone.js");
  expect(bundle.status).toBe(200);
  const doc = await request(t.app).get("/api/v1/openapi.json");
  expect(doc.body.openapi).toBe("3.1.0");
  expect(Object.keys(doc.body.paths).sort()).toEqual([
    "/charges",
    "/charges/batch",
    "/charges/{id}",
    "/ious",
    "/ious/{id}",
    "/members/{abf}",
    "/refunds",
  ]);
});
