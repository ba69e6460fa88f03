// The real server (`npm start`'s entry point) killed with SIGKILL in the middle of a charge — after the ledger
// booked it, before the API stored its answer — then started again: the retry with the same Idempotency-Key
// answers the charge and books nothing new.
import { cliActor } from "../../src/services/audit/record";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { freePort } from "../../src/infra/postgres/binaries";
import { type StripeEmulator, startStripeEmulator } from "../../src/infra/stripe-emulator";
import { createApiKey } from "../../src/services/api/keys";
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

/** The server on the test's database, no demo data, with a one-second Idempotency-Key lease. */
async function start(port: number) {
  return spawnServer({
    PORT: String(port),
    DATA_DIR: dataDir,
    DATABASE_URL: database.url,
    NODE_ENV: "development",
    DEMO_DATA: "false",
    STRIPE_EMULATOR_PORT: "0",
    API_IDEMPOTENCY_LEASE_SECONDS: "1",
  });
}

test("kill -9 after the booking, before the answer is stored; restart; the retry books nothing new", async () => {
  const db = database.prisma;
  const club = await createOrganisation(db, { clubNumber: "R1", name: "Restart Club" });
  const admin = await createUser(db, {
    systemNumber: 810001,
    firstName: "A",
    lastName: "Dmin",
    email: "a@x.test",
    password: "correct-horse-battery",
  });
  const m = await createUser(db, {
    systemNumber: 810002,
    firstName: "Pat",
    lastName: "Player",
    email: "p@x.test",
    password: "correct-horse-battery",
  });
  await fundMember(p, m.id, 5_000n, admin.id);
  const { key, secret } = await createApiKey(
    db,
    {
      name: "k",
      organisationId: club.id,
      scopes: ["charges:write"],
      live: false,
    },
    cliActor(),
  );

  const port = await freePort();
  const url = `http://127.0.0.1:${port}/api/v1/charges`;
  const body = JSON.stringify({ member: 810002, amount: 1_200, currency: "aud", description: "Table money" });
  const post = () =>
    fetch(url, {
      method: "POST",
      headers: {
        Authorization: `Bearer ${secret}`,
        "Idempotency-Key": "session-7",
        "Content-Type": "application/json",
      },
      body,
    });

  const first = await start(port);
  // Hold back the charge record (the step after the booking): the request books, then waits on this lock.
  const blocker = new pg.Client({ connectionString: database.url });
  await blocker.connect();
  await blocker.query("BEGIN");
  await blocker.query("LOCK TABLE api_charges IN EXCLUSIVE MODE");
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
  await blocker.query("ROLLBACK");
  await blocker.end();
  expect(await db.apiCharge.count()).toBe(0);
  const claim = await db.apiIdempotency.findFirstOrThrow();
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
