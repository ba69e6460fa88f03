// The sessions page (issue 18, item 4): a user's active sessions with device, address and last seen, this one
// marked; "sign out" per session and "sign out everywhere else"; a finance editor signs out every session of a
// user from the member's admin page. Forms are sent as the pages render them.
import request from "supertest";
import type TestAgent from "supertest/lib/agent";
import { csrfFrom, makeUser, PASSWORD, signIn, startTestApp, type TestApp } from "../helpers/app";
import { renderedForm } from "../helpers/rendered-form";

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ TRUST_PROXY: "true" });
});
afterAll(() => t.close());

const FIREFOX_WINDOWS = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0";
const SAFARI_IPHONE =
  "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1";

/** Signs in from a given browser and address (behind the proxy, X-Forwarded-For names the client). */
async function signInFrom(email: string, userAgent: string, ip: string) {
  const agent = request.agent(t.app).set("User-Agent", userAgent).set("X-Forwarded-For", ip);
  const page = await agent.get("/login");
  const res = await agent
    .post("/login")
    .type("form")
    .send({ ...renderedForm(page.text, "/login"), identifier: email, password: PASSWORD });
  expect(res.headers.location).toBe("/dashboard");
  return agent;
}

const rows = (html: string) =>
  [...html.matchAll(/<tr data-session="([0-9a-f]{32})">([\s\S]*?)<\/tr>/g)].map((m) => ({
    handle: m[1]!,
    text: m[2]!
      .replace(/<[^>]+>/g, " ")
      .replace(/\s+/g, " ")
      .trim(),
    current: m[2]!.includes("This device"),
  }));

const signedIn = async (agent: TestAgent) => (await agent.get("/dashboard")).status === 200;

test("lists the user's sessions with device, address and last seen; this one marked; others' not shown", async () => {
  const user = await makeUser(t.db);
  const laptop = await signInFrom(user.email, FIREFOX_WINDOWS, "203.0.113.7");
  await signInFrom(user.email, SAFARI_IPHONE, "198.51.100.23");
  const someoneElse = await makeUser(t.db);
  await signInFrom(someoneElse.email, FIREFOX_WINDOWS, "192.0.2.1");

  const page = await laptop.get("/account/sessions");
  expect(page.status).toBe(200);
  const list = rows(page.text);
  expect(list).toHaveLength(2);
  expect(list[0]!.current).toBe(true);
  expect(list[0]!.text).toContain("Firefox on Windows");
  expect(list[0]!.text).toContain("203.0.113.7");
  expect(list[1]!.text).toContain("Safari on iPhone");
  expect(list[1]!.text).toContain("198.51.100.23");
  expect(list[1]!.text).not.toContain("unknown");
  expect(page.text).not.toContain("192.0.2.1");
  // The session id (the cookie's value) is never on the page.
  const sids = (await t.db.session.findMany({ select: { sid: true } })).map((s) => s.sid);
  for (const sid of sids) expect(page.text).not.toContain(sid);
});

test("sign out one other session; this one cannot be signed out from the list", async () => {
  const user = await makeUser(t.db);
  const here = await signInFrom(user.email, FIREFOX_WINDOWS, "203.0.113.8");
  const phone = await signInFrom(user.email, SAFARI_IPHONE, "198.51.100.24");
  const page = await here.get("/account/sessions");
  const other = rows(page.text).find((r) => !r.current)!;
  expect(page.text).not.toContain(`/account/sessions/${rows(page.text).find((r) => r.current)!.handle}/sign-out`);
  const action = `/account/sessions/${other.handle}/sign-out`;
  const res = await here.post(action).type("form").send(renderedForm(page.text, action));
  expect(res.status).toBe(302);
  expect(await signedIn(phone)).toBe(false);
  expect(await signedIn(here)).toBe(true);
  expect(rows((await here.get("/account/sessions")).text)).toHaveLength(1);
});

test("another user's session cannot be signed out by its handle", async () => {
  const victim = await makeUser(t.db);
  const victimAgent = await signInFrom(victim.email, SAFARI_IPHONE, "198.51.100.25");
  const handle = rows((await victimAgent.get("/account/sessions")).text)[0]!.handle;
  const attacker = await makeUser(t.db);
  const agent = await signInFrom(attacker.email, FIREFOX_WINDOWS, "203.0.113.9");
  const page = await agent.get("/account/sessions");
  const res = await agent
    .post(`/account/sessions/${handle}/sign-out`)
    .type("form")
    .send({ _csrf: csrfFrom(page.text) });
  expect(res.status).toBe(404);
  expect(await signedIn(victimAgent)).toBe(true);
});

test("sign out everywhere else keeps this session only", async () => {
  const user = await makeUser(t.db);
  const here = await signInFrom(user.email, FIREFOX_WINDOWS, "203.0.113.10");
  const others = [
    await signInFrom(user.email, SAFARI_IPHONE, "198.51.100.26"),
    await signInFrom(user.email, SAFARI_IPHONE, "198.51.100.27"),
  ];
  const page = await here.get("/account/sessions");
  const res = await here
    .post("/account/sessions/sign-out-others")
    .type("form")
    .send(renderedForm(page.text, "/account/sessions/sign-out-others"));
  expect(res.status).toBe(302);
  expect((await here.get("/account/sessions")).text).toContain("Signed out everywhere else (2 sessions).");
  for (const o of others) expect(await signedIn(o)).toBe(false);
  expect(await signedIn(here)).toBe(true);
});

test("a finance editor signs out every session of a member from the member's page; nobody else may", async () => {
  const member = await makeUser(t.db);
  const devices = [
    await signInFrom(member.email, FIREFOX_WINDOWS, "203.0.113.11"),
    await signInFrom(member.email, SAFARI_IPHONE, "198.51.100.28"),
  ];
  const action = `/payments/admin-sign-out-member/${member.id}`;

  for (const level of [undefined, "VIEW"] as const) {
    const other = await makeUser(t.db, level ? { level } : {});
    const { agent } = await signIn(t.app, other.email);
    const token = csrfFrom((await agent.get("/account/sessions")).text);
    expect((await agent.post(action).type("form").send({ _csrf: token })).status).toBe(403);
  }
  for (const d of devices) expect(await signedIn(d)).toBe(true);

  const finance = await makeUser(t.db, { level: "EDIT" });
  const { agent } = await signIn(t.app, finance.email);
  const page = await agent.get(`/payments/statement-admin-view/${member.id}`);
  const res = await agent.post(action).type("form").send(renderedForm(page.text, action));
  expect(res.status).toBe(302);
  expect(res.headers.location).toBe(`/payments/statement-admin-view/${member.id}`);
  expect((await agent.get(res.headers.location!)).text).toContain("is signed out everywhere (2 sessions).");
  for (const d of devices) expect(await signedIn(d)).toBe(false);
  expect(await signedIn(agent)).toBe(true);
  // Their own page has no such button (their own sessions page is the place for that).
  const own = await agent.get(`/payments/statement-admin-view/${finance.id}`);
  expect(own.text).not.toContain(`/payments/admin-sign-out-member/${finance.id}`);
});
