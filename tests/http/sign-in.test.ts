import request from "supertest";
import { LOGIN_FAILED } from "../../src/routes/core/auth";
import { csrfFrom, makeUser, PASSWORD, sessionCookie, signIn, startTestApp, type TestApp } from "../helpers/app";

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

async function sessionRows() {
  return t.db.session.findMany();
}

describe("sign-in", () => {
  test("a wrong password gets the generic message and no signed-in session", async () => {
    const user = await makeUser(t.db);
    const { agent, res } = await signIn(t.app, user.systemNumber, "wrong-password-1");
    expect(res.status).toBe(401);
    expect(res.text).toContain(LOGIN_FAILED.replace(/'/g, "&#39;"));
    const rows = await sessionRows();
    expect(rows.some((r) => JSON.stringify(r.sess).includes('"passport"'))).toBe(false);
    const dash = await agent.get("/dashboard");
    expect(dash.status).toBe(302);
    expect(dash.headers.location).toBe("/login?next=%2Fdashboard");
  });

  test("an unknown user and an inactive user get exactly the same message", async () => {
    const inactive = await makeUser(t.db, { isActive: false });
    const unknown = await signIn(t.app, "no-such-person@example.test");
    const off = await signIn(t.app, inactive.email, PASSWORD);
    expect(unknown.res.status).toBe(401);
    expect(off.res.status).toBe(401);
    const message = (html: string) => /id="login-error">([^<]*)</.exec(html)?.[1];
    expect(message(unknown.res.text)).toBe(message(off.res.text));
  });

  test("signs in by ABF number or e-mail (any case) and rotates the session id", async () => {
    const user = await makeUser(t.db);
    const agent = request.agent(t.app);
    const page = await agent.get("/login");
    const before = sessionCookie(page);
    expect(before).toBeDefined();
    const res = await agent
      .post("/login")
      .type("form")
      .send({ _csrf: csrfFrom(page.text), identifier: user.email.toUpperCase(), password: PASSWORD });
    expect(res.status).toBe(302);
    expect(res.headers.location).toBe("/dashboard");
    const after = sessionCookie(res);
    expect(after).toBeDefined();
    expect(after).not.toBe(before);
    const dash = await agent.get("/dashboard");
    expect(dash.status).toBe(200);
    expect(dash.text).toContain(`ABF number</dt><dd class="col-7">${user.systemNumber}`);

    const byNumber = await signIn(t.app, user.systemNumber);
    expect(byNumber.res.status).toBe(302);
  });

  test("the session cookie is httpOnly and SameSite", async () => {
    const res = await request(t.app).get("/login");
    const cookie = (res.headers["set-cookie"] as unknown as string[]).find((c) => c.startsWith("bc.sid="));
    expect(cookie).toMatch(/HttpOnly/i);
    expect(cookie).toMatch(/SameSite=Lax/i);
  });

  test("returns to a same-site `next` page but never to another site", async () => {
    const user = await makeUser(t.db);
    for (const [next, expected] of [
      ["/change-password", "/change-password"],
      ["//evil.example/x", "/dashboard"],
      ["https://evil.example/", "/dashboard"],
      ["/\\evil.example", "/dashboard"],
    ]) {
      const agent = request.agent(t.app);
      const page = await agent.get(`/login?next=${encodeURIComponent(next as string)}`);
      const res = await agent
        .post("/login")
        .type("form")
        .send({ _csrf: csrfFrom(page.text), identifier: user.email, password: PASSWORD, next });
      expect(res.headers.location).toBe(expected);
    }
  });

  test("sign out ends the session; the old cookie no longer works", async () => {
    const user = await makeUser(t.db);
    const { agent } = await signIn(t.app, user.email);
    const dash = await agent.get("/dashboard");
    const res = await agent
      .post("/logout")
      .type("form")
      .send({ _csrf: csrfFrom(dash.text) });
    expect(res.status).toBe(302);
    expect(res.headers.location).toBe("/login");
    expect((await agent.get("/dashboard")).status).toBe(302);
  });

  test("a deactivated member is signed out on their next request", async () => {
    const user = await makeUser(t.db);
    const { agent } = await signIn(t.app, user.email);
    expect((await agent.get("/dashboard")).status).toBe(200);
    await t.db.user.update({ where: { id: user.id }, data: { isActive: false } });
    expect((await agent.get("/dashboard")).status).toBe(302);
  });

  test("malformed sign-in input gets the generic message, never a 500", async () => {
    const agent = request.agent(t.app);
    const page = await agent.get("/login");
    const token = csrfFrom(page.text);
    for (const body of [
      { identifier: "", password: "" },
      { identifier: "x".repeat(5000), password: "y" },
      { identifier: "99999999999999999999", password: "y" },
      { identifier: "1", password: "z".repeat(10_000) },
    ]) {
      const res = await agent
        .post("/login")
        .type("form")
        .send({ _csrf: token, ...body });
      expect(res.status).toBe(401);
    }
  });
});

describe("throttling", () => {
  let th: TestApp;
  beforeAll(async () => {
    th = await startTestApp({ LOGIN_MAX_FAILURES: "3", LOGIN_WINDOW_MINUTES: "15" });
  });
  afterAll(() => th.close());

  test("repeated failed sign-ins for one account are refused, even with the right password", async () => {
    const user = await makeUser(th.db);
    for (let i = 0; i < 3; i++) {
      expect((await signIn(th.app, user.email, "not-the-password")).res.status).toBe(401);
    }
    const blocked = await signIn(th.app, user.email, PASSWORD);
    expect(blocked.res.status).toBe(429);
    expect(blocked.res.text).toContain("Too many failed sign-in attempts");
    expect((await blocked.agent.get("/dashboard")).status).toBe(302);
  });

  test("an identifier PostgreSQL cannot store (a NUL byte) is an ordinary failed sign-in, and is counted", async () => {
    // Found by the input fuzz test: the shared counter's key held the typed identifier, and a NUL byte answered 500.
    const odd = "\u{11D43}\u0000x";
    for (let i = 0; i < 3; i++) {
      const res = (await signIn(th.app, odd, "whatever")).res;
      expect(res.status).toBe(401);
    }
    expect((await signIn(th.app, odd, "whatever")).res.status).toBe(429);
    const rows = await th.db.$queryRawUnsafe<{ key: string }[]>("SELECT key FROM rate_limit_hits");
    for (const r of rows) expect(r.key).toMatch(/^[a-z-]+:[0-9a-f]{64}$/);
  });

  test("successful sign-ins do not count towards the limit", async () => {
    const user = await makeUser(th.db);
    for (let i = 0; i < 5; i++) expect((await signIn(th.app, user.email)).res.status).toBe(302);
  });
});
