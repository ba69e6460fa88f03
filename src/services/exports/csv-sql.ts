// The CSV writer's cell rules (src/web/csv-response.ts, statement-csv.ts) as SQL, for exports that PostgreSQL
// writes itself (src/db/copy-csv.ts). Arguments are column expressions from our own code, never input.
import pg from "pg";

/**
 * Text neutralised against spreadsheet formulas like safeCell(): a leading = + - @ tab or CR gets an apostrophe.
 * Empty text becomes NULL, which COPY writes as an empty field (an empty string would be written as "").
 */
export const textCell = (expr: string) =>
  `nullif(CASE WHEN left(${expr}, 1) IN ('=', '+', '-', '@', E'\\t', E'\\r') THEN '''' || ${expr} ELSE ${expr} END, '')`;

/** Integer cents as dollars with two decimals, like plainAmount(): "-0.05", "1234.56", "0.00". Exact decimal
 * (numeric) arithmetic, never float8: cents divided by 100 always fit two places. */
export const amountCell = (centsExpr: string) => `((${centsExpr})::numeric(20, 0) / 100)::numeric(20, 2)`;

/** A timestamptz as "2026-11-27 08:24:05" in the transaction's TimeZone (the configured zone), like localTime(). */
export const localTimeCell = (expr: string) => `to_char(${expr}, 'YYYY-MM-DD HH24:MI:SS')`;

/** A setting bound by copyCsv, read once per query (an InitPlan), cast to `type`. */
export const setting = (name: string, type: string) => `(SELECT current_setting(${pg.escapeLiteral(name)})::${type})`;
