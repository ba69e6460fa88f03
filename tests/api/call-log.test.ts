// The API call log under load: every call is logged, in a few grouped statements rather than one per call; a
// write that fails is reported with the calls it lost, never dropped silently.
import { Writable } from "node:stream";
import type pg from "pg";
import { createLogger } from "../../src/lib/logger";
import { CallLogWriter, type CallRecord } from "../../src/services/api/call-log";
import { type ApiStack, api, makeKey, startApiStack } from "../helpers/api";

let s: ApiStack;
beforeAll(async () => {
  s = await startApiStack();
});
afterAll(() => s.close());

const logInserts = (spy: jest.SpyInstance) =>
  spy.mock.calls.filter(([text]) => typeof text === "string" && text.includes("INSERT INTO api_call_log")).length;

test("40 concurrent calls: all 40 logged, with their statuses, in grouped statements (not one per call)", async () => {
  const key = await makeKey(s, { scopes: ["read"] });
  const spy = jest.spyOn(s.p.pool, "query");
  try {
    const answers = await Promise.all(
      Array.from({ length: 40 }, (_, i) => api(s, key.secret).get(`/members/${i % 2 ? 999_999_901 : 0}`)),
    );
    expect(answers.every((a) => a.status === 404)).toBe(true);
    let rows: { status: number; route: string }[] = [];
    for (let waited = 0; waited < 5_000 && rows.length < 40; waited += 50) {
      await new Promise((r) => setTimeout(r, 50));
      rows = await s.p.db.apiCallLog.findMany({ where: { apiKeyId: key.id }, select: { status: true, route: true } });
    }
    expect(rows).toHaveLength(40);
    expect(rows.every((r) => r.status === 404 && r.route === "/api/v1/members/:abf")).toBe(true);
    expect(logInserts(spy)).toBeLessThan(20);
  } finally {
    spy.mockRestore();
  }
});

test("a failed write is logged with the calls it lost, and later calls are still written", async () => {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk));
      done();
    },
  });
  const logger = createLogger("error", { destination });
  const call = (requestId: string): CallRecord => ({
    apiKeyId: null,
    method: "GET",
    route: "/api/v1/test",
    status: 200,
    requestId,
    idempotencyKey: null,
    replayed: false,
    durationMs: 1,
  });
  let fail = true;
  const pool = {
    query: (text: string, values: unknown[]) =>
      fail ? Promise.reject(new Error("database away")) : s.p.pool.query(text, values),
  } as unknown as pg.Pool;
  const writer = new CallLogWriter(pool, logger);
  writer.add(call("lost-call-1"));
  await writer.flush();
  fail = false;
  writer.add(call("kept-call-2"));
  await writer.flush();
  expect(lines.join("\n")).toContain("lost-call-1");
  expect(lines.join("\n")).toContain("could not write 1 API call log rows");
  expect(await s.p.db.apiCallLog.count({ where: { requestId: "kept-call-2" } })).toBe(1);
});
