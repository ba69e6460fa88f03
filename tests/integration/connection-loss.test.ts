// A connection the server ends (pg_terminate_backend: SQLSTATE 57P01) while it is checked out — the posting
// engine's lean prepared-statement runner, an ordinary query, a Prisma query — fails that one call with an error
// `isConnectionLost` recognises (as Prisma wraps it, too), raises no unhandled 'error' event, and is discarded:
// the pool's next query runs on a new connection.
import pg from "pg";
import { isConnectionLost } from "../../src/db/connection-loss";
import { queryPreparedRow } from "../../src/db/prepared-row";
import { createTestDatabase, type TestDatabase } from "../helpers/db";

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase({ max: 3 });
});
afterAll(() => db.drop());

/** Ends, from outside, the session whose backend pid is `pid`, once it is running a statement. */
async function terminateWhenBusy(pid: number) {
  const admin = new pg.Client({ connectionString: db.url });
  await admin.connect();
  try {
    for (let i = 0; i < 100; i++) {
      const { rows } = await admin.query("SELECT state FROM pg_stat_activity WHERE pid = $1", [pid]);
      if (rows[0]?.state === "active") break;
      await new Promise((r) => setTimeout(r, 20));
    }
    await admin.query("SELECT pg_terminate_backend($1)", [pid]);
  } finally {
    await admin.end();
  }
}

async function backendPid(client: pg.PoolClient) {
  return (await client.query<{ pid: number }>("SELECT pg_backend_pid() AS pid")).rows[0]!.pid;
}

test("a checked-out client whose session is ended: the statement fails as lost, the process lives on", async () => {
  const client = await db.pool.connect();
  const pid = await backendPid(client);
  const sleeping = { name: "test_loss_sleep", text: "SELECT pg_sleep($1::float8)::text" };
  const run = queryPreparedRow(client, sleeping, ["5"]);
  await terminateWhenBusy(pid);
  const err = await run.catch((e: unknown) => e);
  expect(isConnectionLost(err)).toBe(true);
  // node-postgres emits 'error' on the client after the query fails; without the pool's listener that would
  // be an unhandled 'error' event, and jest would fail this test with it.
  await new Promise((r) => setTimeout(r, 100));
  client.release(true);
  const next = await db.pool.connect();
  expect(await backendPid(next)).not.toBe(pid);
  next.release();
});

test("the same through Prisma (its pg adapter wraps the 57P01 in P2010) is recognised as a lost connection", async () => {
  const failed = db.prisma.$queryRaw`SELECT pg_sleep(5)::text`.catch((e: unknown) => e); // starts it
  const admin = new pg.Client({ connectionString: db.url });
  await admin.connect();
  for (let i = 0; i < 100; i++) {
    const { rowCount } = await admin.query(
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep(5)%' AND pid <> pg_backend_pid()",
    );
    if (rowCount) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  await admin.end();
  const err = await failed;
  expect(err).toMatchObject({ code: "P2010" });
  expect(isConnectionLost(err)).toBe(true);
  expect(await db.prisma.$queryRaw`SELECT 1 AS one`).toEqual([{ one: 1 }]);
});

test("an ordinary statement error is not a lost connection", async () => {
  const err = await db.pool.query("SELECT 1 / 0").catch((e: unknown) => e);
  expect(err).toBeInstanceOf(pg.DatabaseError);
  expect(isConnectionLost(err)).toBe(false);
  const prismaErr = await db.prisma.$queryRaw`SELECT 1 / 0`.catch((e: unknown) => e);
  expect(isConnectionLost(prismaErr)).toBe(false);
});
