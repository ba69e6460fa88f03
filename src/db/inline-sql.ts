// A parameterised statement written out with its values as SQL literals, so that several statements can go to
// PostgreSQL in one simple-protocol query (one round trip: "BEGIN; …" or "…; COMMIT"), which a query with
// parameters cannot. Every value is quoted by node-postgres's escapeLiteral; arrays become quoted array literals
// that the statement casts ($1::int[]), exactly as it would cast a parameter.
import pg from "pg";
import { textArray } from "./array-literal";

export type InlineValue = string | number | bigint | null | readonly (string | number | bigint | null)[];

function literal(v: InlineValue): string {
  if (v === null) return "NULL";
  if (Array.isArray(v)) return pg.escapeLiteral(textArray(v.map((x) => (x === null ? null : String(x)))));
  return pg.escapeLiteral(String(v));
}

/** `text` with each $n replaced by values[n-1] as a literal. */
export function inlineSql(text: string, values: readonly InlineValue[]): string {
  return text.replace(/\$(\d+)/g, (_, n: string) => {
    const i = Number(n) - 1;
    if (i >= values.length) throw new RangeError(`no value for $${n}`);
    return literal(values[i]!);
  });
}
