// Every route that needs EDIT refuses a payments editor who has not enrolled in two-factor sign-in (issue 18):
// pages redirect to /account/two-factor (and back afterwards), other requests get a 403. The routes come from the
// app's router, and which of them need EDIT is found by asking, not from a hand list: a route that a viewer is
// refused (403) and an enrolled editor is not is an EDIT route, globally (finance) or for a club (officers).
import request from "supertest";
import type TestAgent from "supertest/lib/agent";
import { SECOND_FACTOR_NEEDED } from "../../src/auth/guards";
import { csrfToken, makeClub, makeUser, signIn, startTestApp, type TestApp } from "../helpers/app";
import { type AppRoute, appRoutes } from "../helpers/routes";

// Each walk asks every route of the app several times: minutes on a loaded 2-core machine.
jest.setTimeout(300_000);

type Who = "financeViewer" | "financeEditor" | "financeNo2fa" | "viewerA" | "officerA" | "officerNo2fa";

let t: TestApp;
const agents = {} as Record<Who, TestAgent>;
const tokens = {} as Record<Who, string>;
const values: Record<string, string> = {};

beforeAll(async () => {
  t = await startTestApp();
  const clubA = await makeClub(t.db, "Alpha");
  const member = await makeUser(t.db);
  const people: Record<Who, { email: string }> = {
    financeViewer: await makeUser(t.db, { level: "VIEW" }),
    financeEditor: await makeUser(t.db, { level: "EDIT" }),
    financeNo2fa: await makeUser(t.db, { level: "EDIT", twoFactor: false }),
    viewerA: await makeUser(t.db, { level: "VIEW", orgId: clubA.id }),
    officerA: await makeUser(t.db, { level: "EDIT", orgId: clubA.id }),
    officerNo2fa: await makeUser(t.db, { level: "EDIT", orgId: clubA.id, twoFactor: false }),
  };
  for (const [who, u] of Object.entries(people) as [Who, { email: string }][]) {
    agents[who] = (await signIn(t.app, u.email)).agent;
    tokens[who] = await csrfToken(agents[who], "/dashboard");
  }
  Object.assign(values, {
    orgId: String(clubA.id),
    memberId: String(member.id),
    range: "30",
    type: "manual_adjust",
    eventId: "evt_none",
    session: "0".repeat(32),
  });
});
afterAll(() => t.close());

// Outside the signed-in pages: key-authenticated API, Stripe's webhook, probes, signing in and out.
const OUTSIDE = /^\/(api\/|payments\/stripe-webhook$|healthz$|readyz$|login|logout$)/;

const pathOf = (route: AppRoute) => route.path.replace(/:(\w+)/g, (_m, name: string) => values[name] ?? "1");

function send(who: Who, route: AppRoute, opts: { json?: boolean } = {}) {
  const path = pathOf(route);
  if (route.method === "get") {
    const req = agents[who].get(path).redirects(0);
    return opts.json ? req.set("Accept", "application/json") : req;
  }
  // The guard runs before the form is read: an empty form (with its CSRF token) is enough to be judged.
  return agents[who].post(path).redirects(0).type("form").send({ _csrf: tokens[who] });
}

async function editRoutes(viewer: Who, editor: Who) {
  const found: AppRoute[] = [];
  for (const route of appRoutes(t.app)) {
    if (OUTSIDE.test(route.path) || route.method === "all") continue;
    const asViewer = await send(viewer, route);
    if (asViewer.status !== 403) continue;
    const asEditor = await send(editor, route);
    if (asEditor.status !== 403) found.push(route);
  }
  return found;
}

async function expectRefusedUntilEnrolled(who: Who, routes: AppRoute[]) {
  const wrong: string[] = [];
  for (const route of routes) {
    const res = await send(who, route);
    const path = pathOf(route);
    if (route.method === "get") {
      if (res.status !== 302 || res.headers.location !== `/account/two-factor?next=${encodeURIComponent(path)}`) {
        wrong.push(`GET ${path}: ${res.status} ${res.headers.location ?? ""}`);
      }
      const json = await send(who, route, { json: true });
      if (json.status !== 403 || json.body.error !== SECOND_FACTOR_NEEDED)
        wrong.push(`GET ${path} (JSON): ${json.status}`);
    } else if (res.status !== 403 || !res.text.includes("Payments editing needs two-factor sign-in")) {
      wrong.push(`POST ${path}: ${res.status}`);
    }
  }
  expect(wrong).toEqual([]);
}

const names = (routes: AppRoute[]) => routes.map((r) => `${r.method} ${r.path}`);

test("finance EDIT routes: every one refuses an unenrolled finance editor", async () => {
  const routes = await editRoutes("financeViewer", "financeEditor");
  // The search found the EDIT rows of the authorization table (docs/back-office.md), not a handful.
  expect(names(routes)).toEqual(
    expect.arrayContaining([
      "get /payments/admin-player-payments/:memberId",
      "get /payments/manual-adjust-member",
      "post /payments/manual-adjust-member",
      "get /payments/manual-adjust-org/:orgId/:type",
      "post /payments/manual-adjust-org",
      "post /payments/admin-payments-static",
      "post /payments/admin-payments-static-org-override-add",
      "post /payments/admin-payments-static-org-override-delete/:id",
      "post /payments/admin-refund-stripe-transaction/:id",
      "post /payments/admin-stripe-events/:eventId/reapply",
      "post /payments/stripe-pending/check/:id",
      "post /payments/stripe-pending/reset-setups",
      "post /payments/settlement",
      "get /payments/settlement-bank-file/:id",
      "post /payments/api-keys",
      "post /payments/api-keys/:id/revoke",
      "post /payments/member-transfer-org/:orgId",
      "post /payments/club-session/:orgId/confirm",
      "post /payments/webhooks",
      "post /payments/admin-sign-out-member/:memberId",
    ]),
  );
  expect(routes.length).toBeGreaterThanOrEqual(40);
  await expectRefusedUntilEnrolled("financeNo2fa", routes);
});

test("club EDIT routes: every one refuses an unenrolled club officer", async () => {
  const routes = await editRoutes("viewerA", "officerA");
  expect(names(routes)).toEqual(
    expect.arrayContaining([
      "get /payments/member-transfer-org/:orgId",
      "post /payments/member-transfer-org/:orgId",
      "get /payments/club-session/:orgId",
      "post /payments/club-session/:orgId/confirm",
      "get /payments/webhooks",
      "post /payments/webhooks/:id/secret",
    ]),
  );
  await expectRefusedUntilEnrolled("officerNo2fa", routes);
});

test("routes that need no EDIT stay open to unenrolled editors (their account, their own money)", async () => {
  for (const path of ["/dashboard", "/payments/statement", "/account/two-factor", "/account/sessions"]) {
    expect((await agents.financeNo2fa.get(path)).status).toBe(200);
  }
  expect((await agents.financeNo2fa.get("/payments/statement-admin-summary")).status).toBe(200);
  expect((await request(t.app).get("/payments/manual-adjust-member")).headers.location).toMatch(/^\/login\?next=/);
});
