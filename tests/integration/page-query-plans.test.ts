// The member pages' queries are named prepared statements that PostgreSQL settles on a generic plan for, so a
// page view costs the database an execution, not a planning (src/db/named-query.ts): planning the dashboard's
// query took ~1.9 ms of PostgreSQL's CPU against ~0.4 ms to run it. PostgreSQL tries a custom plan for the first
// five executions and then keeps the generic one only if it is estimated no dearer; a LIMIT passed as a
// parameter made it look 60× dearer, and the statement was planned on every view. pg_prepared_statements counts
// both kinds of plan per statement on the connection, so this reads the choice PostgreSQL made, not timings.
import session from "express-session";
import type pg from "pg";
import { memberWithEntries } from "../../scripts/bench/member-with-entries";
import { memberMessagesPage } from "../../src/services/notifications/read-notifications";
import { memberDashboard } from "../../src/services/payments/member-summary";
import { memberStatementPage } from "../../src/services/statements/member-statement";
import { pgSessionStore } from "../../src/web/session-store";
import { createTestDatabase, type TestDatabase } from "../helpers/db";
import { paymentsWithoutCards } from "../helpers/payments";

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase({ max: 1 }); // one connection: the statements below are all prepared on it
});
afterAll(() => db.drop());

interface Prepared {
  statement: string;
  generic_plans: string;
  custom_plans: string;
}

const prepared = async (pool: pg.Pool) =>
  (await pool.query<Prepared>("SELECT statement, generic_plans, custom_plans FROM pg_prepared_statements")).rows;

test("the session read, dashboard, statement pages and Messages end up on generic plans", async () => {
  const userId = await memberWithEntries(db, "plans", 20_000);
  await db.pool.query(
    `INSERT INTO notifications (user_id, kind, subject, body, dedupe_key, send_email)
     SELECT $1, 'transfer_in', 'Message ' || g, 'Body ' || g, 'plans:' || g, false FROM generate_series(1, 40) g`,
    [userId],
  );
  await db.pool.query(`INSERT INTO session (sid, sess, expire) VALUES ('plans-sid', $1, now() + interval '1 hour')`, [
    JSON.stringify({ cookie: { originalMaxAge: 3_600_000 }, passport: { user: String(userId) } }),
  ]);
  await db.pool.query("ANALYZE");
  const p = paymentsWithoutCards(db);
  const store = pgSessionStore(session, db.pool, { pruneSessionInterval: false });
  const readSession = () =>
    new Promise<unknown>((resolve, reject) => store.get("plans-sid", (err, s) => (err ? reject(err) : resolve(s))));

  // Each page on its own, page 1 before the deeper page (they share a text): page 1 alone once kept PostgreSQL on
  // custom plans, its "before" sentinel (the largest entry number) estimating cheaper than the generic plan.
  const RUNS = 12;
  const pages: [string, () => Promise<unknown>][] = [
    ["session", async () => expect(await readSession()).toMatchObject({ passport: { user: String(userId) } })],
    ["dashboard", async () => expect((await memberDashboard(p, userId, [])).recent).toHaveLength(5)],
    ["statement page 1", async () => expect((await memberStatementPage(p, userId, {})).lines).toHaveLength(30)],
    [
      "deep statement page",
      async () => expect((await memberStatementPage(p, userId, { before: 10_000 })).lines[0]!.entryNo).toBe(9_999),
    ],
    ["messages", async () => expect((await memberMessagesPage(db.pool, userId)).messages).toHaveLength(40)],
  ];
  for (const [, view] of pages) for (let i = 0; i < RUNS; i++) await view();

  // Session read, dashboard, statement page (page 1 and the deeper page share one text) and Messages.
  const plans = (await prepared(db.pool)).map((r) => ({
    query: r.statement.replace(/\s+/g, " ").trim().slice(0, 90),
    custom: Number(r.custom_plans),
    generic: Number(r.generic_plans),
  }));
  expect(plans).toHaveLength(4);
  expect(plans.some((s) => s.query.startsWith("SELECT s.sess,"))).toBe(true);
  // At most the five trial custom plans each, every later execution on the generic plan.
  expect(plans.filter((s) => s.custom > 5 || s.generic < RUNS - 5)).toEqual([]);

  // PostgreSQL keeps the generic plan only while it is estimated no dearer than the custom ones plus their
  // planning. Page 1 passes the largest entry number as "before"; seen as a constant, it made page 1's custom plan
  // look far cheaper than the generic one (about 20 against 31 here), close enough to the line that with bench:http's members
  // PostgreSQL planned page 1 on every view (2.2 ms of its CPU a page). Hidden from the planner (an InitPlan), both
  // plans cost the same.
  const { rows } = await db.pool.query<{ name: string }>(
    "SELECT name FROM pg_prepared_statements WHERE statement LIKE '%refund_window_weeks%'",
  );
  const account = await p.accounts.forUser(userId);
  const cost = async (mode: string) => {
    await db.pool.query(`SET plan_cache_mode = ${mode}`);
    const plan = await db.pool.query(`EXPLAIN (FORMAT JSON) EXECUTE ${rows[0]!.name}(${account}, ${2 ** 31 - 1})`);
    await db.pool.query("RESET plan_cache_mode");
    return plan.rows[0]["QUERY PLAN"][0].Plan["Total Cost"] as number;
  };
  expect(await cost("force_generic_plan")).toBeLessThanOrEqual(await cost("force_custom_plan"));
});
