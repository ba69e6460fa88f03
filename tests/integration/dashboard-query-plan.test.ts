// The dashboard's one query costs the same however long the member's statement: each of its parts is an index
// probe. Its "last top-up" part asked for the newest entry of each top-up type with the types as a parameter,
// which kept PostgreSQL from using the partial index made for it (entries_top_ups_idx): it walked the member's
// whole statement backwards for each type the member never used (the helper's member has only manual top-ups),
// ~20 ms for 20,000 lines on every dashboard view (and, as part of the page's
// one query, once per statement line shown). Buffers touched are the measure here: timing would be noisy.
import { memberWithEntries } from "../../scripts/bench/member-with-entries";
import { memberDashboardQuery } from "../../src/services/payments/member-summary";
import { createTestDatabase, type TestDatabase } from "../helpers/db";

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(() => db.drop());

test("the dashboard of a member with 20,000 lines touches a few dozen buffers, not thousands", async () => {
  const userId = await memberWithEntries(db, "long-statement", 20_000);
  await db.pool.query("ANALYZE entries");
  const { text, values } = memberDashboardQuery(userId, []);
  const client = await db.pool.connect();
  try {
    // Past the first five runs PostgreSQL may switch to a generic plan: read the plan the pool would be using.
    await client.query(`PREPARE dash AS ${text}`);
    const literals = values.map((v) => (Array.isArray(v) ? `'{${v.join(",")}}'` : String(Number(v))));
    for (let i = 0; i < 6; i++) await client.query(`EXECUTE dash(${literals.join(", ")})`);
    const { rows } = await client.query(`EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) EXECUTE dash(${literals.join(", ")})`);
    const plan = rows[0]["QUERY PLAN"][0].Plan;
    const buffers = plan["Shared Hit Blocks"] + plan["Shared Read Blocks"];
    expect(buffers).toBeLessThan(300);
  } finally {
    client.release();
  }
});
