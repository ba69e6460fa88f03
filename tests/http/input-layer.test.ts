// Every route of the app is declared through the input layer (src/web/input.ts), so none reads unchecked
// params, query or body. Walks the real app's router: a route added with plain Express fails here.
import { INPUT_LAYER, inputRouter } from "../../src/web/input";
import { startTestApp, type TestApp } from "../helpers/app";
import { appRoutes } from "../helpers/routes";

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

// The payments API (/api/v1) has its own input layer: zod schemas from services/api/schemas.ts through parseApi
// and idempotentPost, answering problem+json as its clients expect; tests/api covers it.
const OWN_LAYER = /^\/api\/v1\//;

test("every route's endpoint is the input layer's", () => {
  const routes = appRoutes(t.app);
  expect(routes.length).toBeGreaterThan(60);
  expect(routes.some((r) => OWN_LAYER.test(r.path))).toBe(true);
  const bypassing = routes
    .filter((r) => !OWN_LAYER.test(r.path))
    .filter((r) => !(r.handlers.at(-1) as Record<symbol, unknown>)?.[INPUT_LAYER])
    .map((r) => `${r.method.toUpperCase()} ${r.path}`);
  expect(bypassing).toEqual([]);
});

test("a route whose path parameter has no schema cannot be declared", () => {
  expect(() => inputRouter().get("/things/:id", {}, () => undefined)).toThrow(/no schema for path parameter\(s\) id/);
});
