// DATABASE_READ_URL: the app (a real process) given a second URL, here a role with SELECT-only grants on the same
// test database. Every read-only page and export must work through it (a write through it would fail) and must
// have run its queries on it: after each request a reader session has just finished a statement
// (pg_stat_activity.state_change). Pages that are not read-only (the dashboard) leave the reader alone, and a
// statement the reader may no longer read fails, while the rest of the app goes on.
import pg from "pg";
import { freePort } from "../../src/infra/postgres/binaries";
import { type StripeEmulator, startStripeEmulator } from "../../src/infra/stripe-emulator";
import { getBalance } from "../../src/services/payments/balances";
import type { Payments } from "../../src/services/payments/context";
import { makeClub, makeUser, PASSWORD } from "../helpers/app";
import { createTestDatabase, type TestDatabase } from "../helpers/db";
import { fundMember, fundOrganisation, paymentsOn, violations } from "../helpers/payments";
import { type SpawnedServer, spawnServer } from "../helpers/spawned-server";
import { TEST_ENCRYPTION_KEY } from "../helpers/two-factor";
import { WebClient } from "../helpers/web-client";

const READER = `bc_reader_${process.pid}`;
let db: TestDatabase;
let emulator: StripeEmulator;
let p: Payments;
let server: SpawnedServer;
let base: string;
let admin: pg.Client;
let member: Awaited<ReturnType<typeof makeUser>>;
let club: Awaited<ReturnType<typeof makeClub>>;
const memberBrowser = new WebClient();
const financeBrowser = new WebClient();

function readerUrl(url: string) {
  const u = new URL(url);
  u.username = READER;
  u.password = "reader-password";
  return u.toString();
}

/** When a reader session last finished a statement (the database's clock). */
async function readerLastActive(): Promise<Date | null> {
  const { rows } = await admin.query(
    "SELECT max(state_change) AS at FROM pg_stat_activity WHERE usename = $1 AND datname = current_database()",
    [READER],
  );
  return rows[0].at;
}

async function dbNow(): Promise<Date> {
  return (await admin.query("SELECT clock_timestamp() AS now")).rows[0].now;
}

beforeAll(async () => {
  db = await createTestDatabase();
  admin = new pg.Client({ connectionString: db.url });
  await admin.connect();
  await admin.query(`DROP ROLE IF EXISTS ${READER}`);
  await admin.query(`CREATE ROLE ${READER} LOGIN PASSWORD 'reader-password'`);
  await admin.query(`GRANT CONNECT ON DATABASE "${new URL(db.url).pathname.slice(1)}" TO ${READER}`);
  await admin.query(`GRANT USAGE ON SCHEMA public TO ${READER}`);
  await admin.query(`GRANT SELECT ON ALL TABLES IN SCHEMA public TO ${READER}`);
  await admin.query(`GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA public TO ${READER}`);

  emulator = await startStripeEmulator();
  ({ p } = paymentsOn(db, emulator));
  const finance = await makeUser(p.db, { level: "VIEW" });
  const funder = await makeUser(p.db, { level: "EDIT" });
  member = await makeUser(p.db, { firstName: "Reading" });
  club = await makeClub(p.db, "Replica");
  await fundMember(p, member.id, 12_345n, funder.id);
  await fundOrganisation(p, club.id, 67_890n, funder.id);

  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  server = await spawnServer({
    NODE_ENV: "production",
    DATABASE_URL: db.url,
    DATABASE_READ_URL: readerUrl(db.url),
    MIGRATE_ON_START: "false",
    DEMO_DATA: "false",
    SESSION_SECRET: "read-database-test-session-secret-0123456789",
    APP_ENCRYPTION_KEY: TEST_ENCRYPTION_KEY, // the key makeUser enrolled staff with
    STRIPE_SECRET_KEY: emulator.secretKey,
    STRIPE_PUBLISHABLE_KEY: emulator.publishableKey,
    STRIPE_WEBHOOK_SECRET: emulator.webhookSecret,
    HOST: "127.0.0.1",
    PORT: String(port),
    LOG_LEVEL: "info",
  });
  await memberBrowser.signIn(base, member.email, PASSWORD);
  await financeBrowser.signIn(base, finance.email, PASSWORD);
}, 120_000);

afterAll(async () => {
  await server?.stop("SIGTERM");
  await p?.ledger.close();
  await emulator?.close();
  await admin?.end();
  await db?.drop();
  const cleanup = new pg.Client({ connectionString: process.env.DATABASE_URL });
  await cleanup.connect();
  await cleanup.query(`DROP ROLE IF EXISTS ${READER}`).finally(() => cleanup.end());
});

const day = new Intl.DateTimeFormat("en-CA", { timeZone: "Australia/Sydney" }).format(new Date());

test("every read-only page and export runs its queries through DATABASE_READ_URL", async () => {
  const pages: [WebClient, string, string][] = [
    [memberBrowser, "/payments/statement", "Opening balance"],
    [memberBrowser, "/payments/statement-csv", "Opening balance"],
    [memberBrowser, "/payments/statement-pdf", "%PDF"],
    [financeBrowser, `/payments/statement-admin-view/${member.id}`, "Opening balance"],
    [financeBrowser, `/payments/statement-csv/${member.id}`, "Opening balance"],
    [financeBrowser, `/payments/statement-org/${club.id}`, "Opening balance"],
    [financeBrowser, `/payments/statement-csv-org/${club.id}`, "Opening balance"],
    [financeBrowser, "/payments/statement-admin-summary", "Finance"],
    [financeBrowser, "/payments/admin-members-with-balance", "123.45"],
    [financeBrowser, "/payments/admin-members-with-balance-csv", "123.45"],
    [financeBrowser, "/payments/admin-orgs-with-balance", "678.90"],
    [financeBrowser, "/payments/admin-orgs-with-balance-csv", "678.90"],
    [financeBrowser, `/payments/organisation-movement-report?from=${day}&to=${day}`, "Replica"],
    [financeBrowser, `/payments/organisation-movement-report?from=${day}&to=${day}&format=csv`, "Replica"],
    [financeBrowser, `/payments/admin-stripe-rec?reference_date=${day}`, "Reconciliation"],
    [financeBrowser, "/payments/admin-view-specific-transactions/manual_adjust", "Manual Adjustments"],
    [financeBrowser, "/payments/admin-view-stripe-transactions", "Card payments"],
  ];
  for (const [browser, path, expected] of pages) {
    const before = await dbNow();
    const res = await browser.get(`${base}${path}`);
    expect({ path, status: res.status }).toEqual({ path, status: 200 });
    expect(res.text).toContain(expected);
    const last = await readerLastActive();
    expect({ path, readThroughReader: last !== null && last > before }).toEqual({ path, readThroughReader: true });
  }

  // The dashboard is not one of them: the member's balance comes from the primary.
  const before = await dbNow();
  const dashboard = await memberBrowser.get(`${base}/dashboard`);
  expect(dashboard.status).toBe(200);
  const last = await readerLastActive();
  expect(last === null || last < before).toBe(true);
});

test("a statement the reader may not read fails; pages on the primary go on", async () => {
  await admin.query(`REVOKE SELECT ON entries FROM ${READER}`);
  try {
    expect((await memberBrowser.get(`${base}/payments/statement-csv`)).status).toBeGreaterThanOrEqual(500);
    expect((await memberBrowser.get(`${base}/dashboard`)).status).toBe(200);
  } finally {
    await admin.query(`GRANT SELECT ON entries TO ${READER}`);
  }
  expect((await memberBrowser.get(`${base}/payments/statement-csv`)).status).toBe(200);
  expect(await getBalance(p, member.id)).toBe(12_345n);
  expect(await violations(p)).toEqual([]);
});
