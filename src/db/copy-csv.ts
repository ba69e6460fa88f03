// CSV exports at database speed: PostgreSQL writes the file itself (`COPY (SELECT …) TO STDOUT WITH (FORMAT csv,
// HEADER)`) and we only pass its bytes on, with back-pressure, from a pooled connection.
//
// Filters reach the query as bind parameters, never as SQL text: COPY takes no parameters, so they are first
// bound into transaction-local settings (`SELECT set_config($1, $2, true)`) and the query reads them with
// `current_setting(…)` (once, in a scalar sub-select). Quoting literals into the text (escapeLiteral) would also
// be safe on zod-checked values, but this keeps the SQL text constant for any input; and PREPARE cannot be used,
// since COPY runs only a literal query. The time zone is the transaction's own TimeZone setting, so `to_char` on a
// timestamptz gives local time. The transaction is READ ONLY and REPEATABLE READ: one snapshot for the whole file.
import type { Writable } from "node:stream";
import { finished } from "node:stream/promises";
import type pg from "pg";
import { to as copyTo } from "pg-copy-streams";

export interface CopyQuery {
  /** A SELECT whose column names are the CSV's header; reads its inputs only through current_setting(). */
  sql: string;
  /** Setting name → value, bound as parameters (names like "bridge.from"; "TimeZone" sets the local zone). */
  settings: Record<string, string>;
}

/**
 * Streams the query's CSV into `out` and ends it. Rejects if the database or `out` fails, or `out` closes early
 * (a client that went away); a failing query does not destroy `out`, so its owner decides what it sees.
 */
export async function copyCsv(pool: pg.Pool, out: Writable, q: CopyQuery): Promise<{ rows: number }> {
  const client = await pool.connect();
  try {
    await client.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
    const names = Object.keys(q.settings);
    if (names.length) {
      await client.query(
        `SELECT ${names.map((_, i) => `set_config($${2 * i + 1}, $${2 * i + 2}, true)`).join(", ")}`,
        names.flatMap((n) => [n, q.settings[n]]),
      );
    }
    const copy = client.query(copyTo(`COPY (${q.sql}) TO STDOUT WITH (FORMAT csv, HEADER)`));
    const failed = new Promise<never>((_, reject) => copy.on("error", reject));
    copy.pipe(out);
    try {
      await Promise.race([finished(out), failed]);
    } finally {
      copy.unpipe(out);
    }
    await client.query("COMMIT");
    client.release();
    return { rows: copy.rowCount };
  } catch (e) {
    // The connection may be mid-COPY or mid-transaction: released with the error, the pool discards it.
    client.release(e instanceof Error ? e : new Error(String(e)));
    throw e;
  }
}
