// The real server (`npm start`'s entry point) killed with SIGKILL in the middle of a charge, then started again:
//  - a charge run step by step (here one that may end as an IOU), killed after the ledger booked it and before
//    the API stored its answer: once the lease runs out, the retry answers the charge and books nothing new;
//  - a charge in a shared group transaction (charge-group.ts), killed before its commit: the group is kept whole
//    or not at all (never a claim left "running"), and the retry is answered at once (booked once).
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { freePort } from "../../src/infra/postgres/binaries";
import { type StripeEmulator, startStripeEmulator } from "../../src/infra/stripe-emulator";
import { createApiKey } from "../../src/services/api/keys";
import { cliActor } from "../../src/services/audit/record";
import { createOrganisation } from "../../src/services/orgs/create-organisation";
import type { Payments } from "../../src/services/payments/context";
import { createUser } from "../../src/services/users/create-user";
import { createTestDatabase, type TestDatabase } from "../helpers/db";
import { fundMember, paymentsOn, violations } from "../helpers/payments";
import { spawnServer } from "../helpers/spawned-server";

let database: TestDatabase;
let dataDir: string;
let emulator: StripeEmulator;
let p: Payments;
beforeAll(async () => {
  database = await createTestDatabase();
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "bc-api-restart-"));
  emulator = await startStripeEmulator();
  p = paymentsOn(database, emulator).p;
});
afterAll(async () => {
  await p.ledger.close();
  await emulator.close();
  await database.drop();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

/** The server on the test's database, no demo data, with a one-second Idempotency-Key lease (unless given). */
async function start(port: number, leaseSeconds = "1") {
  return spawnServer({
    PORT: String(port),
    DATA_DIR: dataDir,
    DATABASE_URL: database.url,
    NODE_ENV: "development",
    DEMO_DATA: "false",
    STRIPE_EMULATOR_PORT: "0",
    API_IDEMPOTENCY_LEASE_SECONDS: leaseSeconds,
  });
}

/** A club, a funded member (810002, $50) and an organisation key with `scopes`. */
async function setUp(clubNumber: string, scopes: ("charges:write" | "ious:write")[]) {
  const db = database.prisma;
  const club = await createOrganisation(db, { clubNumber, name: `Restart Club ${clubNumber}` });
  const admin = await createUser(db, {
    systemNumber: Number(`81${clubNumber.slice(1)}01`),
    firstName: "A",
    lastName: "Dmin",
    email: `a${clubNumber}@x.test`,
    password: "correct-horse-battery",
  });
  const m = await createUser(db, {
    systemNumber: Number(`81${clubNumber.slice(1)}02`),
    firstName: "Pat",
    lastName: "Player",
    email: `p${clubNumber}@x.test`,
    password: "correct-horse-battery",
  });
  await fundMember(p, m.id, 5_000n, admin.id);
  const { key, secret } = await createApiKey(
    db,
    { name: "k", organisationId: club.id, scopes, live: false },
    cliActor(),
  );
  return { m, key, secret };
}

/** Sends the same charge (same Idempotency-Key and body) each time it is called. */
const poster = (port: number, secret: string, charge: Record<string, unknown>) => () =>
  fetch(`http://127.0.0.1:${port}/api/v1/charges`, {
    method: "POST",
    headers: { Authorization: `Bearer ${secret}`, "Idempotency-Key": "session-7", "Content-Type": "application/json" },
    body: JSON.stringify({ amount: 1_200, currency: "aud", description: "Table money", ...charge }),
  });

/** A transaction holding api_charges, so whoever writes a charge next waits. */
async function holdChargeTable() {
  const blocker = new pg.Client({ connectionString: database.url });
  await blocker.connect();
  await blocker.query("BEGIN");
  await blocker.query("LOCK TABLE api_charges IN EXCLUSIVE MODE");
  return {
    release: async () => {
      await blocker.query("ROLLBACK");
      await blocker.end();
    },
  };
}

test("step by step: kill -9 after the booking, before the answer is stored; restart; the retry books nothing new", async () => {
  const db = database.prisma;
  // A charge that may end as an IOU runs step by step (claim, booking, charge record, answer: each committed).
  const { m, key, secret } = await setUp("R1", ["charges:write", "ious:write"]);
  const port = await freePort();
  const post = poster(port, secret, { member: m.systemNumber, when_insufficient: "iou" });

  const first = await start(port);
  // Hold back the charge record (the step after the booking): the request books, then waits on this lock.
  const blocker = await holdChargeTable();
  const inFlight = post().catch((e: unknown) => e);
  const chargeKey = `api:${key.id}:session-7`;
  for (let i = 0; ; i++) {
    const { rows } = await database.pool.query("SELECT 1 FROM postings WHERE idempotency_key = $1", [chargeKey]);
    if (rows.length) break;
    if (i > 200) throw new Error("the charge was never booked");
    await new Promise((r) => setTimeout(r, 50));
  }
  await first.stop("SIGKILL");
  expect(String(await inFlight)).toMatch(/fetch failed/); // the connection dropped: the caller got no answer
  await blocker.release();
  expect(await db.apiCharge.count({ where: { chargeKey } })).toBe(0);
  const claim = await db.apiIdempotency.findFirstOrThrow({ where: { apiKeyId: key.id } });
  expect(claim.responseStatus).toBeNull(); // left "running" by the dead process

  const second = await start(port);
  try {
    await new Promise((r) => setTimeout(r, 1_100)); // the dead request's lease runs out
    const retry = await post();
    expect(retry.status).toBe(201);
    const charge = (await retry.json()) as { status: string; amount: number };
    expect(charge).toMatchObject({ status: "succeeded", amount: 1_200 });
    const replay = await post();
    expect(replay.headers.get("idempotent-replayed")).toBe("true");
  } finally {
    await second.stop("SIGKILL");
  }
  expect(await db.posting.count({ where: { idempotencyKey: chargeKey } })).toBe(1);
  expect((await db.account.findUniqueOrThrow({ where: { userId: m.id } })).balanceCents).toBe(3_800n);
  expect(await violations(p)).toEqual([]);
}, 180_000);

// Killed while the group waits on its claim (nothing of it is written yet: its transaction is rolled back once
// the database finds the client gone), or on its booking or write (booking, charges, answers, events and COMMIT
// were sent as one query, which the database then completes on its own).
test.each([
  { at: "the claim", club: "R4", lock: "LOCK TABLE api_idempotency IN EXCLUSIVE MODE", leaves: "nothing" },
  { at: "the booking", club: "R2", lock: "FOR UPDATE", leaves: "the whole charge, answered" },
  {
    at: "the write",
    club: "R3",
    lock: "LOCK TABLE api_charges IN EXCLUSIVE MODE",
    leaves: "the whole charge, answered",
  },
])(
  "in a group: kill -9 while $at waits; it leaves $leaves (never a claim running); the retry is answered at once, one posting",
  async ({ at, club, lock }) => {
    const db = database.prisma;
    const { m, key, secret } = await setUp(club, ["charges:write"]);
    const port = await freePort();
    const post = poster(port, secret, { member: m.systemNumber });
    const chargeKey = `api:${key.id}:session-7`;

    // The default lease (60 s): a claim left "running" would make the retry below wait a minute (409).
    const first = await start(port, "60");
    const blocker = new pg.Client({ connectionString: database.url });
    await blocker.connect();
    await blocker.query("BEGIN");
    if (lock === "FOR UPDATE") await blocker.query("SELECT 1 FROM accounts WHERE user_id = $1 FOR UPDATE", [m.id]);
    else await blocker.query(lock);
    const inFlight = post().catch((e: unknown) => e);
    const groups = `SELECT count(*)::int AS n FROM pg_stat_activity
                   WHERE application_name = 'api-charge-groups' AND wait_event_type = 'Lock'`;
    for (let i = 0; (await database.pool.query(groups)).rows[0].n === 0; i++) {
      if (i > 200) throw new Error(`the group never waited on ${at}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    await first.stop("SIGKILL");
    expect(String(await inFlight)).toMatch(/fetch failed/);
    await blocker.query("ROLLBACK");
    await blocker.end();
    // The dead server's group connection ends once its backend finds the client gone.
    for (let i = 0; ; i++) {
      const { rows } = await database.pool.query(
        "SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'api-charge-groups'",
      );
      if (rows[0].n === 0) break;
      if (i > 200) throw new Error("the dead server's group connection stayed");
      await new Promise((r) => setTimeout(r, 50));
    }
    const claims = await db.apiIdempotency.findMany({ where: { apiKeyId: key.id } });
    const left = {
      claims: claims.map((c) => c.responseStatus),
      postings: await db.posting.count({ where: { idempotencyKey: chargeKey } }),
      charges: await db.apiCharge.count({ where: { chargeKey } }),
    };
    expect(left).toEqual(
      at === "the claim" ? { claims: [], postings: 0, charges: 0 } : { claims: [201], postings: 1, charges: 1 },
    );

    const second = await start(port, "60");
    try {
      const retry = await post(); // at once: no lease to wait out
      expect(retry.status).toBe(201);
      expect(retry.headers.get("idempotent-replayed")).toBe(at === "the claim" ? null : "true");
      const replay = await post();
      expect(replay.headers.get("idempotent-replayed")).toBe("true");
      expect(await replay.text()).toBe(await retry.text());
    } finally {
      await second.stop("SIGKILL");
    }
    expect(await db.posting.count({ where: { idempotencyKey: chargeKey } })).toBe(1);
    expect((await db.account.findUniqueOrThrow({ where: { userId: m.id } })).balanceCents).toBe(3_800n);
    expect(await violations(p)).toEqual([]);
  },
  180_000,
);
