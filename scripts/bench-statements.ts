import os from "node:os";
import { Writable } from "node:stream";
import { connectDatabase, type Database } from "../src/db/client";
import { migrateDeploy } from "../src/db/migrate";
import { createLogger } from "../src/lib/logger";
import { UnconfiguredCardGateway } from "../src/services/payments/card-gateway";
import { createPayments, type Payments } from "../src/services/payments/context";
import { allStatementRows, memberStatementPage } from "../src/services/statements/member-statement";
import { writeStatementCsv } from "../src/services/statements/statement-csv";
import { writeStatementPdf } from "../src/services/statements/statement-pdf";
import { benchDatabase } from "./bench/bench-database";
import { memberWithEntries } from "./bench/member-with-entries";

const env = (k: string, d: number) => (process.env[k] ? Number(process.env[k]) : d);
const PAGE_ENTRIES = env("BENCH_PAGE_ENTRIES", 100_000);
const CSV_ENTRIES = env("BENCH_CSV_ENTRIES", 1_000_000);
const PDF_ENTRIES = env("BENCH_PDF_ENTRIES", 5_000);
const log = (s: string) => console.log(s);

async function timed<T>(fn: () => Promise<T>, times: number) {
  const ms: number[] = [];
  let out: T | undefined;
  for (let i = 0; i < times; i++) {
    const t = process.hrtime.bigint();
    out = await fn();
    ms.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  ms.sort((a, b) => a - b);
  return { p50: ms[Math.floor(ms.length / 2)]!, max: ms.at(-1)!, out: out as T };
}

class Counter extends Writable {
  bytes = 0;
  override _write(chunk: Buffer, _enc: string, cb: () => void) {
    this.bytes += chunk.length;
    cb();
  }
}

async function main() {
  const bench = await benchDatabase();
  const url = bench.url;
  try {
    log(`machine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? "cpu"}, ${Math.round(os.totalmem() / 2 ** 30)} GiB`);
    await migrateDeploy(url);
    const db = connectDatabase(url, { max: 6 });
    const p: Payments = createPayments({
      db: db.prisma,
      pool: db.pool,
      gateway: new UnconfiguredCardGateway(),
      logger: createLogger("silent"),
      timeZone: "Australia/Sydney",
    });
    let t = Date.now();
    const pageUser = await memberWithEntries(db, "page", PAGE_ENTRIES);
    const csvUser = await memberWithEntries(db, "csv", CSV_ENTRIES);
    const pdfUser = await memberWithEntries(db, "pdf", PDF_ENTRIES);
    await db.pool.query("VACUUM ANALYZE");
    const bad = await db.pool.query("SELECT rule, subject FROM ledger_violations() LIMIT 5");
    log(
      `loaded ${PAGE_ENTRIES + CSV_ENTRIES + PDF_ENTRIES} member entries in ${((Date.now() - t) / 1000).toFixed(1)} s; invariants: ${bad.rows.length ? JSON.stringify(bad.rows) : "ok"}`,
    );
    if (bad.rows.length) process.exitCode = 1;

    const rows: string[][] = [];
    const page = (q: Parameters<typeof memberStatementPage>[2]) => () => memberStatementPage(p, pageUser, q);
    const deep = Math.floor(PAGE_ENTRIES / 2);
    for (const [label, q] of [
      ["first page", {}],
      [`page at entry ${deep.toLocaleString("en-AU")}`, { before: deep }],
      ["filtered by type", { type: "Club Payment" as const }],
      ["filtered by a one-day range a month back", { from: isoDaysAgo(31), to: isoDaysAgo(31) }],
    ] as const) {
      const r = await timed(page(q as Parameters<typeof memberStatementPage>[2]), 30);
      rows.push([
        `statement page, ${PAGE_ENTRIES.toLocaleString("en-AU")} entries: ${label}`,
        `${r.p50.toFixed(1)} ms`,
        `${r.max.toFixed(1)} ms`,
        `${r.out.lines.length} lines`,
        "goal: well under 100 ms",
      ]);
    }

    global.gc?.();
    const rssBefore = process.memoryUsage().rss;
    let peak = rssBefore;
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss);
    }, 50);
    t = Date.now();
    const sink = new Counter();
    const csvAcct = await p.accounts.forUser(csvUser);
    await writeStatementCsv(
      sink,
      "Australia/Sydney",
      allStatementRows(p, csvAcct, { type: undefined, before: undefined }),
    );
    clearInterval(sampler);
    rows.push([
      `CSV, ${CSV_ENTRIES.toLocaleString("en-AU")} entries`,
      `${((Date.now() - t) / 1000).toFixed(1)} s`,
      `${(sink.bytes / 2 ** 20).toFixed(0)} MiB written`,
      `peak RSS ${(peak / 2 ** 20).toFixed(0)} MiB (start ${(rssBefore / 2 ** 20).toFixed(0)} MiB)`,
      "goal: constant memory",
    ]);

    const pdfAcct = await p.accounts.forUser(pdfUser);
    const pdf = await timed(async () => {
      const s = new Counter();
      await writeStatementPdf(
        s,
        { name: "Bench PDF", systemNumber: 1, period: "all", timeZone: "Australia/Sydney", generatedAt: new Date() },
        allStatementRows(p, pdfAcct, { type: undefined, before: undefined }),
      );
      return s.bytes;
    }, 3);
    rows.push([
      `PDF, ${PDF_ENTRIES.toLocaleString("en-AU")} entries`,
      `${(pdf.p50 / 1000).toFixed(2)} s`,
      `${(pdf.max / 1000).toFixed(2)} s max`,
      `${(pdf.out / 2 ** 20).toFixed(1)} MiB`,
      "goal: a few seconds",
    ]);

    const head = ["what", "p50 / time", "max / size", "detail", "bar"];
    const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
    const line = (r: string[]) => r.map((c, i) => c.padEnd(widths[i]!)).join("  ");
    log("");
    log(line(head));
    for (const r of rows) log(line(r));
    await db.close();
  } finally {
    await bench.stop();
  }
}

function isoDaysAgo(days: number) {
  return new Date(Date.now() - days * 86_400_000).toISOString().slice(0, 10);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
