import { csrfFrom, makeUser, PASSWORD, signIn, startTestApp, type TestApp } from "../helpers/app";

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

async function post(agent: Awaited<ReturnType<typeof signIn>>["agent"], body: Record<string, string>) {
  const token = csrfFrom((await agent.get("/change-password")).text);
  return agent
    .post("/change-password")
    .type("form")
    .send({ _csrf: token, ...body });
}

describe("change password", () => {
  test("bad input gets a clear message and changes nothing", async () => {
    const user = await makeUser(t.db);
    const { agent } = await signIn(t.app, user.email);
    const cases: [Record<string, string>, string][] = [
      [
        { currentPassword: "wrong-one-here", newPassword: "new-password-1", confirmPassword: "new-password-1" },
        "The current password is not right.",
      ],
      [{ currentPassword: PASSWORD, newPassword: "short", confirmPassword: "short" }, "at least 10 characters"],
      [{ currentPassword: PASSWORD, newPassword: "new-password-1", confirmPassword: "new-password-2" }, "do not match"],
      [{ currentPassword: PASSWORD, newPassword: PASSWORD, confirmPassword: PASSWORD }, "must differ"],
      [{}, "Current password is required."],
    ];
    const before = (await t.db.user.findUniqueOrThrow({ where: { id: user.id } })).passwordHash;
    for (const [body, message] of cases) {
      const res = await post(agent, body);
      expect(res.status).toBe(400);
      expect(res.text).toContain(message);
    }
    expect((await t.db.user.findUniqueOrThrow({ where: { id: user.id } })).passwordHash).toBe(before);
  });

  test("a new password works, the old one stops working, and other sessions are signed out", async () => {
    const user = await makeUser(t.db);
    const elsewhere = await signIn(t.app, user.email);
    const { agent } = await signIn(t.app, user.email);
    const res = await post(agent, {
      currentPassword: PASSWORD,
      newPassword: "a-much-better-password",
      confirmPassword: "a-much-better-password",
    });
    expect(res.status).toBe(302);
    const dash = await agent.get("/dashboard");
    expect(dash.status).toBe(200);
    expect(dash.text).toContain("Your password has been changed");
    expect((await elsewhere.agent.get("/dashboard")).status).toBe(302);
    expect((await signIn(t.app, user.email, PASSWORD)).res.status).toBe(401);
    expect((await signIn(t.app, user.email, "a-much-better-password")).res.status).toBe(302);
  });
});
