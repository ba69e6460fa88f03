// Every page answers each role correctly: anonymous, member, club officer of this and of another club,
// finance viewer, finance editor.
import request from "supertest";
import { makeClub, makeUser, signIn, startTestApp, type TestApp } from "../helpers/app";
import { fundMember, paymentsWithoutCards } from "../helpers/payments";

let t: TestApp;
let clubA: { id: number };
let clubB: { id: number };
const agents: Record<string, request.Agent> = {};

beforeAll(async () => {
  t = await startTestApp();
  clubA = await makeClub(t.db, "Alpha");
  clubB = await makeClub(t.db, "Bravo");
  const people = {
    member: await makeUser(t.db),
    officerA: await makeUser(t.db, { level: "EDIT", orgId: clubA.id }),
    viewerA: await makeUser(t.db, { level: "VIEW", orgId: clubA.id }),
    financeViewer: await makeUser(t.db, { level: "VIEW" }),
    financeEditor: await makeUser(t.db, { level: "EDIT" }),
  };
  for (const [role, user] of Object.entries(people)) agents[role] = (await signIn(t.app, user.email)).agent;
});
afterAll(() => t.close());

const get = (role: string, path: string) => (role === "anonymous" ? request(t.app).get(path) : agents[role]!.get(path));

describe("who may see what", () => {
  test("anonymous users are redirected to sign in, and come back afterwards", async () => {
    for (const path of ["/dashboard", "/payments/statement-admin-summary", `/payments/statement-org/${clubA.id}`]) {
      const res = await get("anonymous", path);
      expect(res.status).toBe(302);
      expect(res.headers.location).toBe(`/login?next=${encodeURIComponent(path)}`);
    }
  });

  test("finance pages: only global payments roles", async () => {
    const path = "/payments/statement-admin-summary";
    const expected: Record<string, number> = {
      member: 403,
      officerA: 403,
      viewerA: 403,
      financeViewer: 200,
      financeEditor: 200,
    };
    for (const [role, status] of Object.entries(expected)) {
      const res = await get(role, path);
      expect({ role, status: res.status }).toEqual({ role, status });
    }
    const denied = await get("member", path);
    expect(denied.text).toContain("Not allowed");
    expect(denied.text).not.toMatch(/at \w+ \(/); // no stack trace
  });

  test("club pages: that club's officers and finance staff only", async () => {
    const expected: Record<string, [number, number]> = {
      member: [403, 403],
      officerA: [200, 403],
      viewerA: [200, 403],
      financeViewer: [200, 200],
      financeEditor: [200, 200],
    };
    for (const [role, [a, b]] of Object.entries(expected)) {
      const ra = await get(role, `/payments/statement-org/${clubA.id}`);
      const rb = await get(role, `/payments/statement-org/${clubB.id}`);
      expect({ role, a: ra.status, b: rb.status }).toEqual({ role, a, b });
    }
  });

  test("navigation shows only what the role may use", async () => {
    const member = (await get("member", "/dashboard")).text;
    expect(member).not.toContain('href="/payments/statement-admin-summary"');
    expect(member).not.toContain("My club");
    const officer = (await get("officerA", "/dashboard")).text;
    expect(officer).toContain(`href="/payments/statement-org/${clubA.id}"`);
    expect(officer).not.toContain('href="/payments/statement-admin-summary"');
    const finance = (await get("financeViewer", "/dashboard")).text;
    expect(finance).toContain('href="/payments/statement-admin-summary"');
  });

  test("malformed and unknown organisation ids are a 404, never a 500", async () => {
    for (const id of ["abc", "-1", "0", "1e3", "99999999999999", "999999"]) {
      const res = await get("financeEditor", `/payments/statement-org/${id}`);
      expect({ id, status: res.status }).toEqual({ id, status: 404 });
    }
  });

  test("a revoked role stops working at once", async () => {
    const user = await makeUser(t.db, { level: "VIEW" });
    const { agent } = await signIn(t.app, user.email);
    expect((await agent.get("/payments/statement-admin-summary")).status).toBe(200);
    await t.db.roleGrant.deleteMany({ where: { userId: user.id } });
    expect((await agent.get("/payments/statement-admin-summary")).status).toBe(403);
  });
});

describe("dashboard", () => {
  test("shows the member's own balance", async () => {
    const p = paymentsWithoutCards(t.database);
    const admin = await makeUser(t.db, { level: "EDIT" });
    const m = await makeUser(t.db);
    await fundMember(p, m.id, 123_456n, admin.id);
    const { agent } = await signIn(t.app, m.email);
    const page = await agent.get("/dashboard");
    expect(page.text).toContain('id="balance">$1,234.56<');
  });
});
