// PostgreSQL array literals ("{…}") built directly, for statements that take whole batches as array parameters.
// node-postgres would convert JS arrays itself, but generically (two regular-expression replaces per element);
// on the posting engine's hot path that conversion was a visible share of the app's CPU per payment.

const NEEDS_ESCAPE = /["\\]/;

/** A text[] literal. Every element is quoted, so the string "NULL" stays a string; null becomes SQL NULL. */
export function textArray(xs: readonly (string | null)[]): string {
  let s = "{";
  for (let i = 0; i < xs.length; i++) {
    const x = xs[i]!;
    if (i > 0) s += ",";
    if (x === null) s += "NULL";
    else s += `"${NEEDS_ESCAPE.test(x) ? x.replace(/["\\]/g, "\\$&") : x}"`;
  }
  return `${s}}`;
}

/** An int[] / bigint[] literal; null becomes SQL NULL. */
export function numberArray(xs: readonly (number | bigint | null)[]): string {
  let s = "{";
  for (let i = 0; i < xs.length; i++) {
    const x = xs[i]!;
    if (i > 0) s += ",";
    if (x === null) s += "NULL";
    else if (typeof x === "bigint" || Number.isSafeInteger(x)) s += String(x);
    else throw new TypeError(`not an integer: ${x}`);
  }
  return `${s}}`;
}
