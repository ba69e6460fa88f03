// Two-factor sign-in (issue 18, item 1): enrolment on /account/two-factor, the second sign-in step with a code or
// a recovery code, each code once, wrong codes throttled, secrets encrypted at rest, the operators' reset and
// demo code. Forms are sent as the pages render them; codes are computed from the secret the page shows.
import request from "supertest";
import type TestAgent from "supertest/lib/agent";
import { runAdmin } from "../../src/cli/admin";
import { DEMO_TOTP_SECRET, seedDemoData } from "../../src/services/demo/seed-demo";
import { createSecretBox } from "../../src/services/two-factor/secret-box";
import { codeForStep, stepAt } from "../../src/services/two-factor/totp";
import { csrfFrom, makeUser, PASSWORD, signIn, startTestApp, type TestApp } from "../helpers/app";
import { renderedForm } from "../helpers/rendered-form";
import { knownSecret, TEST_ENCRYPTION_KEY, testBox } from "../helpers/two-factor";

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

const now = () => stepAt(Date.now());
const code = (secret: string, step = now()) => codeForStep(secret, step);

/** Password only: the response to POST /login and the agent. */
async function password(app: TestApp["app"], identifier: string, pw = PASSWORD) {
  const agent = request.agent(app);
  const page = await agent.get("/login");
  const res = await agent
    .post("/login")
    .type("form")
    .send({ ...renderedForm(page.text, "/login"), identifier, password: pw });
  return { agent, res };
}

async function sendCode(agent: TestAgent, typed: string) {
  const page = await agent.get("/login/two-factor");
  expect(page.status).toBe(200);
  return agent
    .post("/login/two-factor")
    .type("form")
    .send({ ...renderedForm(page.text, "/login/two-factor"), code: typed });
}

/** Enrols the signed-in user through the page; answers the secret shown and the recovery codes. */
async function enrol(agent: TestAgent) {
  const page = await agent.get("/account/two-factor");
  expect(page.status).toBe(200);
  expect(page.text).toMatch(/<img src="data:image\/png;base64,[A-Za-z0-9+/=]+" alt="QR code/);
  const secret = /data-secret="([A-Z2-7]+)"/.exec(page.text)![1]!;
  const step = now();
  const res = await agent
    .post("/account/two-factor")
    .type("form")
    .send({ ...renderedForm(page.text, "/account/two-factor"), code: code(secret, step) });
  expect(res.status).toBe(200);
  const codes = [...res.text.matchAll(/<li>([a-z2-9]{5}-[a-z2-9]{5})<\/li>/g)].map((m) => m[1]!);
  return { secret, codes, step };
}

describe("enrolment", () => {
  test("a payments editor who has not enrolled is sent to enrol after the password, and EDIT pages wait", async () => {
    const editor = await makeUser(t.db, { level: "EDIT", twoFactor: false });
    const { agent, res } = await password(t.app, editor.email);
    expect(res.status).toBe(302);
    expect(res.headers.location).toBe("/account/two-factor?next=%2Fdashboard");
    const adjust = await agent.get("/payments/manual-adjust-member");
    expect(adjust.status).toBe(302);
    expect(adjust.headers.location).toBe("/account/two-factor?next=%2Fpayments%2Fmanual-adjust-member");

    const page = await agent.get("/account/two-factor?next=%2Fpayments%2Fmanual-adjust-member");
    expect(page.text).toContain("set up two-factor sign-in before using those pages");
    const secret = /data-secret="([A-Z2-7]+)"/.exec(page.text)![1]!;
    const form = renderedForm(page.text, "/account/two-factor");
    expect(form.next).toBe("/payments/manual-adjust-member");
    // A reload shows the same secret (nothing is enabled until a code confirms it).
    expect((await agent.get("/account/two-factor")).text).toContain(`data-secret="${secret}"`);

    const wrong = await agent
      .post("/account/two-factor")
      .type("form")
      .send({ ...form, code: code(secret, now() + 5) });
    expect(wrong.status).toBe(400);
    expect(wrong.text).toContain("That code is not right");
    expect((await t.db.twoFactorSecret.findUniqueOrThrow({ where: { userId: editor.id } })).enabledAt).toBeNull();

    const done = await agent
      .post("/account/two-factor")
      .type("form")
      .send({ ...form, code: code(secret) });
    expect(done.status).toBe(200);
    expect(done.headers["cache-control"]).toBe("no-store");
    const codes = [...done.text.matchAll(/<li>([a-z2-9]{5}-[a-z2-9]{5})<\/li>/g)].map((m) => m[1]!);
    expect(new Set(codes).size).toBe(10);
    expect(done.text).toContain('href="/payments/manual-adjust-member"');

    // Stored: the secret encrypted (not the text, and only with the key), the recovery codes hashed.
    const row = await t.db.twoFactorSecret.findUniqueOrThrow({ where: { userId: editor.id } });
    expect(row.enabledAt).not.toBeNull();
    expect(row.secretEncrypted).not.toContain(secret);
    expect(testBox.decrypt(editor.id, row.secretEncrypted)).toBe(secret);
    expect(() =>
      createSecretBox("another-key-another-key-another-key!").decrypt(editor.id, row.secretEncrypted),
    ).toThrow();
    expect(() => testBox.decrypt(editor.id + 1, row.secretEncrypted)).toThrow();
    const stored = await t.db.recoveryCode.findMany({ where: { userId: editor.id } });
    expect(stored).toHaveLength(10);
    for (const c of codes) expect(stored.map((s) => s.codeHash).join()).not.toContain(c.replace("-", ""));

    // This session gave the code: EDIT pages open. The codes are never shown again.
    expect((await agent.get("/payments/manual-adjust-member")).status).toBe(200);
    const after = await agent.get("/account/two-factor");
    expect(after.text).toContain("You have 10 unused recovery codes");
    expect(after.text).not.toContain(codes[0]!);
    expect(after.text).not.toContain("data-secret");
  });

  test("enrolling signs out the user's other sessions (they signed in with the password alone)", async () => {
    const editor = await makeUser(t.db, { level: "EDIT", twoFactor: false });
    const other = await password(t.app, editor.email);
    const { agent } = await password(t.app, editor.email);
    await enrol(agent);
    expect((await other.agent.get("/dashboard")).status).toBe(302);
    expect((await agent.get("/dashboard")).status).toBe(200);
  });

  test("a member may enrol voluntarily, then needs a code to sign in, and may switch it off with a code", async () => {
    const member = await makeUser(t.db);
    const { agent } = await password(t.app, member.email);
    const page = await agent.get("/account/two-factor");
    expect(page.text).not.toContain("set up two-factor sign-in before using those pages");
    const { secret, step } = await enrol(agent); // spends that step
    expect((await password(t.app, member.email)).res.headers.location).toBe("/login/two-factor");

    const status = await agent.get("/account/two-factor");
    const off = renderedForm(status.text, "/account/two-factor/disable");
    for (const typed of ["000000", code(secret, step), ""]) {
      const refused = await agent
        .post("/account/two-factor/disable")
        .type("form")
        .send({ ...off, code: typed });
      expect(refused.status).toBe(400);
    }
    expect(await t.db.twoFactorSecret.count({ where: { userId: member.id } })).toBe(1);
    const ok = await agent
      .post("/account/two-factor/disable")
      .type("form")
      .send({ ...off, code: code(secret, step + 1) });
    expect(ok.status).toBe(302);
    expect(await t.db.twoFactorSecret.count({ where: { userId: member.id } })).toBe(0);
    expect(await t.db.recoveryCode.count({ where: { userId: member.id } })).toBe(0);
    expect((await password(t.app, member.email)).res.headers.location).toBe("/dashboard");
  });

  test("a payments editor cannot switch it off", async () => {
    const editor = await makeUser(t.db, { level: "EDIT", twoFactor: false });
    const { agent } = await password(t.app, editor.email);
    const { secret } = await enrol(agent);
    const status = await agent.get("/account/two-factor");
    expect(status.text).not.toContain("/account/two-factor/disable");
    const res = await agent
      .post("/account/two-factor/disable")
      .type("form")
      .send({ _csrf: csrfFrom(status.text), code: code(secret, now() + 1) });
    expect(res.status).toBe(400);
    expect(res.text).toContain("required while you hold a payments editing role");
    expect(await t.db.twoFactorSecret.count({ where: { userId: editor.id, enabledAt: { not: null } } })).toBe(1);
  });
});

describe("signing in with a second factor", () => {
  test("the password alone does not sign in; a current code does, and EDIT pages open", async () => {
    const editor = await makeUser(t.db, { level: "EDIT", twoFactor: false });
    const { secret } = await enrol((await password(t.app, editor.email)).agent);

    const { agent, res } = await password(t.app, editor.email);
    expect(res.status).toBe(302);
    expect(res.headers.location).toBe("/login/two-factor");
    // Not signed in yet: every page sends the visitor to sign in.
    const dash = await agent.get("/dashboard");
    expect(dash.status).toBe(302);
    expect(dash.headers.location).toBe("/login?next=%2Fdashboard");
    expect((await agent.get("/payments/manual-adjust-member")).headers.location).toMatch(/^\/login\?next=/);

    const wrong = await sendCode(agent, code(secret, now() + 3));
    expect(wrong.status).toBe(401);
    expect(wrong.text).toContain("That code is not right");
    const ok = await sendCode(agent, code(secret, now() + 1));
    expect(ok.status).toBe(302);
    expect(ok.headers.location).toBe("/dashboard");
    expect((await agent.get("/payments/manual-adjust-member")).status).toBe(200);
  });

  test("the page asked for comes after the code", async () => {
    const editor = await makeUser(t.db, { level: "EDIT" });
    const agent = request.agent(t.app);
    const page = await agent.get("/login?next=%2Fpayments%2Fsettlement");
    const res = await agent
      .post("/login")
      .type("form")
      .send({ ...renderedForm(page.text, "/login"), identifier: editor.email, password: PASSWORD });
    expect(res.headers.location).toBe("/login/two-factor");
    const ok = await sendCode(agent, code(knownSecret(editor.email)!, now() + 1));
    expect(ok.headers.location).toBe("/payments/settlement");
  });

  test("a replayed code is refused, and so is an earlier step once a later one was used", async () => {
    const member = await makeUser(t.db);
    const { secret } = await enrol((await password(t.app, member.email)).agent); // spends the current step
    const step = now() + 1;
    const first = await password(t.app, member.email);
    expect((await sendCode(first.agent, code(secret, step))).status).toBe(302);
    const replay = await password(t.app, member.email);
    const again = await sendCode(replay.agent, code(secret, step));
    expect(again.status).toBe(401);
    expect((await replay.agent.get("/dashboard")).status).toBe(302);
    const earlier = await sendCode(replay.agent, code(secret, step - 1));
    expect(earlier.status).toBe(401);
  });

  test("two sign-ins racing with the same code: one gets in", async () => {
    const member = await makeUser(t.db);
    const { secret } = await enrol((await password(t.app, member.email)).agent);
    const a = await password(t.app, member.email);
    const b = await password(t.app, member.email);
    const pages = await Promise.all([a.agent.get("/login/two-factor"), b.agent.get("/login/two-factor")]);
    const c = code(secret, now() + 1);
    const results = await Promise.all(
      [a, b].map((s, i) =>
        s.agent
          .post("/login/two-factor")
          .type("form")
          .send({ ...renderedForm(pages[i]!.text, "/login/two-factor"), code: c }),
      ),
    );
    expect(results.map((r) => r.status).sort()).toEqual([302, 401]);
  });

  test("a recovery code signs in once", async () => {
    const member = await makeUser(t.db);
    const { codes } = await enrol((await password(t.app, member.email)).agent);
    const first = await password(t.app, member.email);
    const ok = await sendCode(first.agent, ` ${codes[3]!.toUpperCase()} `);
    expect(ok.status).toBe(302);
    const dash = await first.agent.get("/dashboard");
    expect(dash.text).toContain("You signed in with a recovery code; 9 left.");
    expect(await t.db.recoveryCode.count({ where: { userId: member.id, usedAt: { not: null } } })).toBe(1);

    const second = await password(t.app, member.email);
    expect((await sendCode(second.agent, codes[3]!)).status).toBe(401);
    expect((await second.agent.get("/dashboard")).status).toBe(302);
    // Another user's codes are not this user's.
    const other = await makeUser(t.db);
    const otherCodes = (await enrol((await password(t.app, other.email)).agent)).codes;
    expect((await sendCode(second.agent, otherCodes[0]!)).status).toBe(401);
    expect((await sendCode(second.agent, codes[4]!)).status).toBe(302);
  });

  test("the code step without a password first leads back to sign in", async () => {
    const agent = request.agent(t.app);
    expect((await agent.get("/login/two-factor")).headers.location).toBe("/login");
    const page = await agent.get("/login");
    const res = await agent
      .post("/login/two-factor")
      .type("form")
      .send({ _csrf: csrfFrom(page.text), code: "123456" });
    expect(res.status).toBe(302);
    expect(res.headers.location).toBe("/login");
  });
});

describe("throttling", () => {
  let th: TestApp;
  beforeAll(async () => {
    th = await startTestApp({ LOGIN_MAX_FAILURES: "3", LOGIN_WINDOW_MINUTES: "15" });
  });
  afterAll(() => th.close());

  test("wrong codes are throttled per user like passwords, even a right code is then refused", async () => {
    const member = await makeUser(th.db);
    const { secret } = await enrol((await password(th.app, member.email)).agent);
    for (let i = 0; i < 3; i++) {
      // A fresh sign-in each time: the count is the user's, not the session's.
      const s = await password(th.app, member.email);
      expect((await sendCode(s.agent, "000000")).status).toBe(401);
    }
    const s = await password(th.app, member.email);
    const blocked = await sendCode(s.agent, code(secret, now() + 1));
    expect(blocked.status).toBe(429);
    expect(blocked.text).toContain("Too many failed two-factor codes");
    expect((await s.agent.get("/dashboard")).status).toBe(302);
    // Another user is not affected.
    const other = await makeUser(th.db);
    const o = await enrol((await password(th.app, other.email)).agent);
    const os = await password(th.app, other.email);
    expect((await sendCode(os.agent, code(o.secret, now() + 1))).status).toBe(302);
  });

  test("wrong codes while enrolling count too", async () => {
    const member = await makeUser(th.db);
    const { agent } = await password(th.app, member.email);
    const page = await agent.get("/account/two-factor");
    const secret = /data-secret="([A-Z2-7]+)"/.exec(page.text)![1]!;
    const form = renderedForm(page.text, "/account/two-factor");
    for (let i = 0; i < 3; i++) {
      expect(
        (
          await agent
            .post("/account/two-factor")
            .type("form")
            .send({ ...form, code: "111111" })
        ).status,
      ).toBe(400);
    }
    const blocked = await agent
      .post("/account/two-factor")
      .type("form")
      .send({ ...form, code: code(secret) });
    expect(blocked.status).toBe(429);
    expect((await th.db.twoFactorSecret.findUniqueOrThrow({ where: { userId: member.id } })).enabledAt).toBeNull();
  });
});

describe("operators' CLI", () => {
  test("reset-2fa removes the authenticator and signs the user out; they enrol again at the next sign-in", async () => {
    const editor = await makeUser(t.db, { level: "EDIT" });
    const { agent } = await signIn(t.app, editor.email);
    expect((await agent.get("/payments/manual-adjust-member")).status).toBe(200);
    const out = await runAdmin(["reset-2fa", "--user", editor.email], t.db);
    expect(out).toContain("Two-factor sign-in reset for");
    expect((await agent.get("/dashboard")).status).toBe(302);
    expect(await t.db.twoFactorSecret.count({ where: { userId: editor.id } })).toBe(0);
    expect(await t.db.recoveryCode.count({ where: { userId: editor.id } })).toBe(0);
    const again = await password(t.app, editor.email);
    expect(again.res.headers.location).toBe("/account/two-factor?next=%2Fdashboard");
  });

  test("demo-code prints the demo staff's current code in development, and refuses in production", async () => {
    const saved = { ...process.env };
    const demo = await startTestApp();
    try {
      await seedDemoData(demo.db, testBox);
      process.env.APP_ENCRYPTION_KEY = TEST_ENCRYPTION_KEY;
      process.env.NODE_ENV = "development";
      const before = now();
      const printed = await runAdmin(["demo-code", "--user", "finance@demo.bridgecredits.test"], demo.db);
      expect([code(DEMO_TOTP_SECRET, before), code(DEMO_TOTP_SECRET, before + 1)]).toContain(printed);
      // A member without two-factor sign-in, and a user with their own authenticator: nothing printed.
      await expect(runAdmin(["demo-code", "--user", "620001"], demo.db)).rejects.toThrow(/no two-factor sign-in/);
      const own = await makeUser(demo.db, { level: "EDIT" });
      await expect(runAdmin(["demo-code", "--user", own.email], demo.db)).rejects.toThrow(/their own authenticator/);

      Object.assign(process.env, {
        NODE_ENV: "production",
        DATABASE_URL: "postgresql://u@db/x",
        SESSION_SECRET: "s".repeat(40),
        STRIPE_SECRET_KEY: "sk_test_x",
        STRIPE_PUBLISHABLE_KEY: "pk_test_x",
        STRIPE_WEBHOOK_SECRET: "whsec_x",
      });
      await expect(runAdmin(["demo-code", "--user", "620101"], demo.db)).rejects.toThrow(/development only/);
    } finally {
      process.env = saved;
      await demo.close();
    }
  });
});
