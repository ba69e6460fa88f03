// The array literals the posting engine builds by hand must mean to PostgreSQL exactly what the values were.
import fc from "fast-check";
import pg from "pg";
import { numberArray, textArray } from "../../src/db/array-literal";

let client: pg.Client;
beforeAll(async () => {
  client = new pg.Client({ connectionString: process.env.DATABASE_URL });
  await client.connect();
});
afterAll(() => client.end());

const roundTrip = async (literal: string, type: string) =>
  (await client.query({ text: `SELECT $1::${type} AS v`, values: [literal], rowMode: "array" })).rows[0]![0];

test("text arrays come back as given: quotes, backslashes, braces, commas, spaces, the word NULL, any Unicode", async () => {
  const cases: (string | null)[][] = [
    [],
    [""],
    [null],
    ["NULL", "null", null],
    ['say "hi"', "back\\slash", "{braces}", "a,b", "  spaced  ", "Łukasz Żółć", "emoji 🃏"],
  ];
  for (const xs of cases) expect(await roundTrip(textArray(xs), "text[]")).toEqual(xs);
  await fc.assert(
    fc.asyncProperty(
      // PostgreSQL text cannot hold NUL; everything else must survive.
      fc.array(
        fc.option(
          fc.string({ unit: "grapheme" }).filter((s) => !s.includes("\0")),
          { nil: null },
        ),
      ),
      async (xs) => expect(await roundTrip(textArray(xs), "text[]")).toEqual(xs),
    ),
    { numRuns: 200 },
  );
});

test("number arrays come back as given, bigints beyond 2^53 included; a non-integer is refused", async () => {
  const xs = [0, -1, 2 ** 31 - 1, null];
  expect(await roundTrip(numberArray(xs), "int[]")).toEqual(xs);
  const big = [-(10n ** 15n) - 7n, 9007199254740993n, 0n, null];
  expect(await roundTrip(numberArray(big), "bigint[]")).toEqual(big.map((b) => (b === null ? null : String(b))));
  expect(() => numberArray([1.5])).toThrow(/not an integer/);
  expect(() => numberArray([Number.NaN])).toThrow(/not an integer/);
});
