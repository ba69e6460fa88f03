// The pages' hot reads as named prepared statements (issue 17, bench:http).
//
// PostgreSQL plans an unnamed statement afresh on every execution. The member pages' queries join seven tables
// under a header of subqueries, and planning them cost ~1.9 ms of the database's CPU against ~0.4 ms to run
// them: on the 2-core benchmark machine PostgreSQL, not Node, was what held the dashboard back. A named
// statement is parsed once per connection; after five executions PostgreSQL keeps a generic plan (planned once)
// when it is estimated to cost no more than the custom ones. That holds for these queries because they keep
// their LIMITs literal (a LIMIT parameter made the generic plan look 60× dearer, so PostgreSQL went on planning
// every execution). `tests/integration/page-query-plans.test.ts` checks each page query ends up on a generic plan.
//
// Named statements live in the connection: they need session pooling if PgBouncer sits in between
// (docs/scaling.md), and a connection that is replaced parses them again on first use.
import { createHash } from "node:crypto";
import type pg from "pg";

const names = new Map<string, string>();
/** Distinct query texts are few (a page's filters give a handful of shapes); the bound is a safety net. */
const MAX_NAMES = 500;

/** The statement's name: a hash of its text, so one text always has one name on every connection. */
export function statementName(text: string): string {
  let name = names.get(text);
  if (name === undefined) {
    name = `bc_${createHash("sha1").update(text).digest("hex").slice(0, 24)}`;
    if (names.size >= MAX_NAMES) names.clear();
    names.set(text, name);
  }
  return name;
}

/** `pool.query(text, values)` as a named prepared statement. */
export function namedQuery<R extends pg.QueryResultRow>(
  pool: Pick<pg.Pool, "query">,
  text: string,
  values: unknown[],
): Promise<pg.QueryResult<R>> {
  return pool.query<R>({ name: statementName(text), text, values });
}
