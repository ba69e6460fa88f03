// Date formatters are built once, not once per date shown: each Intl.DateTimeFormat costs ~0.35 ms and holds ICU
// memory the garbage collector does not see, so building one per date made statement pages slow and the built
// server's RSS climb under use (issue 17; docs/performance.md). Counted by wrapping the constructor.
import express from "express";
import { cachedFormatterCount, dateTimeFormat } from "../../src/lib/intl-cache";
import { localTime } from "../../src/services/statements/statement-csv";
import { setupViews } from "../../src/web/views";

const RealFormat = Intl.DateTimeFormat;
let built = 0;

beforeEach(() => {
  built = 0;
  const counting = function (this: unknown, ...args: ConstructorParameters<typeof Intl.DateTimeFormat>) {
    built++;
    return new RealFormat(...args);
  } as unknown as typeof Intl.DateTimeFormat;
  Object.assign(counting, RealFormat);
  Intl.DateTimeFormat = counting;
});

afterEach(() => {
  Intl.DateTimeFormat = RealFormat;
});

test("the templates' datetime filter formats 1,000 dates with at most one new formatter", () => {
  const env = setupViews(express(), { watch: false, timeZone: "Australia/Sydney" });
  const datetime = env.getFilter("datetime") as (d: Date) => string;
  const out = new Set<string>();
  for (let i = 0; i < 1000; i++) out.add(datetime(new Date(Date.UTC(2026, 10, 1, 0, i))));
  expect(out.size).toBe(1000);
  expect(datetime(new Date("2026-11-27T21:24:05Z"))).toBe("28 Nov 2026, 8:24 am");
  expect(built).toBeLessThanOrEqual(1);
});

test("statement times (CSV, PDF, file names) reuse one formatter per zone", () => {
  const times = Array.from({ length: 500 }, (_, i) => localTime(new Date(Date.UTC(2026, 0, 1, 0, 0, i)), "UTC"));
  expect(times[61]).toBe("2026-01-01 00:01:01");
  expect(built).toBeLessThanOrEqual(1);
});

test("the cache stays bounded whatever zones are asked for", () => {
  const zones = Intl.supportedValuesOf("timeZone");
  expect(zones.length).toBeGreaterThan(100);
  for (const timeZone of zones) dateTimeFormat("en-AU", { timeZone, dateStyle: "short" });
  expect(cachedFormatterCount()).toBeLessThanOrEqual(64);
  // The same options give back the same formatter.
  const a = dateTimeFormat("en-AU", { timeZone: "Australia/Perth", dateStyle: "short" });
  expect(dateTimeFormat("en-AU", { timeZone: "Australia/Perth", dateStyle: "short" })).toBe(a);
});
