import request from "supertest";
import { csrfFrom, makeUser, PASSWORD, signIn, startTestApp, type TestApp } from "../helpers/app";

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

describe("CSRF protection", () => {
  test("a POST without a token is refused and changes nothing", async () => {
    const user = await makeUser(t.db);
    const { agent } = await signIn(t.app, user.email);
    const before = await t.db.user.findUniqueOrThrow({ where: { id: user.id } });
    const res = await agent.post("/change-password").type("form").send({
      currentPassword: PASSWORD,
      newPassword: "a-brand-new-password",
      confirmPassword: "a-brand-new-password",
    });
    expect(res.status).toBe(403);
    expect(res.text).toContain("This form has expired");
    const after = await t.db.user.findUniqueOrThrow({ where: { id: user.id } });
    expect(after.passwordHash).toBe(before.passwordHash);
    expect((await agent.get("/dashboard")).status).toBe(200); // still signed in
  });

  test("a token from another session is refused", async () => {
    const a = await makeUser(t.db);
    const b = await makeUser(t.db);
    const sa = await signIn(t.app, a.email);
    const sb = await signIn(t.app, b.email);
    const tokenOfB = csrfFrom((await sb.agent.get("/dashboard")).text);
    const res = await sa.agent.post("/logout").type("form").send({ _csrf: tokenOfB });
    expect(res.status).toBe(403);
    expect((await sa.agent.get("/dashboard")).status).toBe(200);
  });

  test("sign-in itself needs the token (login CSRF)", async () => {
    const user = await makeUser(t.db);
    const res = await request(t.app).post("/login").type("form").send({ identifier: user.email, password: PASSWORD });
    expect(res.status).toBe(403);
    expect(res.headers.location).toBeUndefined();
    const rows = await t.db.session.findMany();
    expect(rows.some((r) => JSON.stringify(r.sess).includes(`"user":"${user.id}"`))).toBe(false);
  });

  test("fetch and htmx calls may send the token as X-CSRF-Token", async () => {
    const user = await makeUser(t.db);
    const { agent } = await signIn(t.app, user.email);
    const token = csrfFrom((await agent.get("/dashboard")).text);
    const res = await agent.post("/logout").set("X-CSRF-Token", token);
    expect(res.status).toBe(302);
  });

  test("JSON requests without a token get a JSON error", async () => {
    const res = await request(t.app).post("/logout").set("Accept", "application/json").send({});
    expect(res.status).toBe(403);
    expect(res.body.error).toMatch(/expired/);
  });
});
