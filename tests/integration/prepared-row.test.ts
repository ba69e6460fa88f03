// The lean runner of named prepared statements the posting engine uses (src/db/prepared-row.ts): it drives
// node-postgres's wire protocol itself, so these check it behaves like an ordinary query in every outcome.
import pg from "pg";
import { queryPreparedRow } from "../../src/db/prepared-row";
import { createTestDatabase, type TestDatabase } from "../helpers/db";

let db: TestDatabase;
let client: pg.PoolClient;
beforeAll(async () => {
  db = await createTestDatabase({ max: 3 });
  client = await db.pool.connect();
});
afterAll(async () => {
  client.release();
  await db.drop();
});

const pair = { name: "test_prepared_pair", text: "SELECT $1::text || '!' AS a, nullif($2::text, 'none') AS b" };
const none = { name: "test_prepared_none", text: "SELECT 1 WHERE $1::int < 0" };
const failing = { name: "test_prepared_failing", text: "SELECT 1 / $1::int" };

test("answers the first row's columns as text, NULL as null", async () => {
  expect(await queryPreparedRow(client, pair, ["ok", "x"])).toEqual(["ok!", "x"]);
  expect(await queryPreparedRow(client, pair, ["é ✓", "none"])).toEqual(["é ✓!", null]);
  expect(await queryPreparedRow(client, pair, [null, null])).toEqual([null, null]);
});

test("answers the first row when there are several", async () => {
  const many = { name: "test_prepared_many", text: "SELECT g::text FROM generate_series(1, $1::int) g ORDER BY g" };
  expect(await queryPreparedRow(client, many, ["3"])).toEqual(["1"]);
});

test("answers null when the statement returns no row", async () => {
  expect(await queryPreparedRow(client, none, ["5"])).toBeNull();
});

test("parses a statement once per connection, then runs it by name", async () => {
  for (let i = 0; i < 3; i++) await queryPreparedRow(client, pair, [String(i), "x"]);
  const { rows } = await client.query("SELECT name FROM pg_prepared_statements WHERE name = $1", [pair.name]);
  expect(rows).toHaveLength(1);
  // Another connection parses it for itself.
  const other = await db.pool.connect();
  try {
    expect(await queryPreparedRow(other, pair, ["1", "x"])).toEqual(["1!", "x"]);
    expect(await queryPreparedRow(other, pair, ["2", "x"])).toEqual(["2!", "x"]);
  } finally {
    other.release();
  }
});

test("a statement error rejects with the database's error and leaves the connection usable", async () => {
  const err = await queryPreparedRow(client, failing, ["0"]).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(pg.DatabaseError);
  expect((err as pg.DatabaseError).code).toBe("22012"); // division by zero
  expect(await queryPreparedRow(client, failing, ["1"])).toEqual(["1"]);
  expect((await client.query("SELECT 2 AS n")).rows).toEqual([{ n: 2 }]);
});

test("a statement that fails to parse rejects, and a corrected retry is not mistaken for parsed", async () => {
  const c = new pg.Client({ connectionString: db.url });
  await c.connect();
  try {
    const bad = { name: "test_prepared_bad", text: "SELEC 1" };
    expect(((await queryPreparedRow(c, bad, []).catch((e: unknown) => e)) as pg.DatabaseError).code).toBe("42601");
    const good = { name: "test_prepared_bad", text: "SELECT 1" };
    expect(await queryPreparedRow(c, good, [])).toEqual(["1"]);
  } finally {
    await c.end();
  }
});

test("one name for two different texts is refused, as node-postgres refuses it", async () => {
  await queryPreparedRow(client, pair, ["a", "b"]);
  await expect(queryPreparedRow(client, { name: pair.name, text: "SELECT 2" }, [])).rejects.toThrow(
    /used for a different text/,
  );
  expect(await queryPreparedRow(client, pair, ["still", "fine"])).toEqual(["still!", "fine"]);
});

test("a connection lost mid-statement rejects rather than hanging", async () => {
  const c = new pg.Client({ connectionString: db.url });
  c.on("error", () => {}); // the lost connection is reported here too
  await c.connect();
  const pid = (await c.query("SELECT pg_backend_pid() AS pid")).rows[0].pid as number;
  const slow = { name: "test_prepared_slow", text: "SELECT pg_sleep($1::float8)::text" };
  const running = queryPreparedRow(c, slow, ["5"]).catch((e: unknown) => e);
  await new Promise((r) => setTimeout(r, 200));
  await db.pool.query("SELECT pg_terminate_backend($1)", [pid]);
  const err = await running;
  expect(err).toBeInstanceOf(Error);
  await c.end().catch(() => {});
});
