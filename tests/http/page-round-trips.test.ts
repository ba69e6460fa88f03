// The pages members open most make two database round trips each once the process is warm: the session read with
// its signed-in user, second factor and roles (src/web/session-store.ts), and one query for the page's data.
// They made five to seven (session, user, an expiry UPDATE on every view, then Prisma queries), and under load
// the pages ran at a twentieth of the framework's ceiling (issue 17, bench:http, docs/performance.md). Every query
// the app sends goes through pg's Client#query (Prisma through its pg driver adapter too), which is counted here.
import pg from "pg";
import { grantRole } from "../../src/services/roles/grant-role";
import { makeClub, makeUser, signIn, startTestApp, type TestApp } from "../helpers/app";
import { fundMember, paymentsWithoutCards } from "../helpers/payments";

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

const sent: string[] = [];
const query = pg.Client.prototype.query;
beforeEach(() => {
  pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
    const q = args[0];
    sent.push(typeof q === "string" ? q : ((q as { text?: string })?.text ?? String(q)));
    // biome-ignore lint/suspicious/noExplicitAny: forwarding pg's overloaded signature
    return (query as any).apply(this, args);
  } as typeof query;
});
afterEach(() => {
  pg.Client.prototype.query = query;
});

async function roundTrips(agent: { get(path: string): PromiseLike<{ status: number; text: string }> }, path: string) {
  sent.length = 0;
  const res = await agent.get(path);
  expect(res.status).toBe(200);
  return { n: sent.length, sent: [...sent], text: res.text };
}

test("dashboard, statement (first and deep page) and Messages: two round trips each", async () => {
  const finance = await makeUser(t.db, { level: "EDIT" });
  const member = await makeUser(t.db);
  const club = await makeClub(t.db, "Round Trip Club");
  await grantRole(t.db, { userId: member.id, organisationId: club.id, level: "VIEW" });
  const p = paymentsWithoutCards(t.database);
  for (let i = 0; i < 35; i++) await fundMember(p, member.id, 100n + BigInt(i), finance.id);
  const { agent } = await signIn(t.app, member.email);

  const pages = ["/dashboard", "/payments/statement", "/payments/statement?before=10", "/payments/messages"];
  for (const path of pages) await roundTrips(agent, path); // warm: the CSRF token is stored once, ids cached
  for (const path of pages) {
    const r = await roundTrips(agent, path);
    expect({ path, roundTrips: r.n, sent: r.n === 2 ? [] : r.sent }).toEqual({ path, roundTrips: 2, sent: [] });
  }
  // What the pages show is what they showed before (the page tests check it in detail).
  expect((await agent.get("/dashboard")).text).toContain("Round Trip Club");
  expect((await agent.get("/payments/statement?before=10")).text).toContain("Opening balance");
});
