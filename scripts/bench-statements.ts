import os from "node:os";
import { Writable } from "node:stream";
import { connectDatabase } from "../src/db/client";
import { copyCsv } from "../src/db/copy-csv";
import { migrateDeploy } from "../src/db/migrate";
import { STATEMENT_FROM } from "../src/services/ledger/statement-rows";
import type { Payments } from "../src/services/payments/context";
import { allStatementRows, memberStatementPage } from "../src/services/statements/member-statement";
import { statementCsvQuery } from "../src/services/statements/statement-csv";
import { MAX_PDF_LINES, writeStatementPdf } from "../src/services/statements/statement-pdf";
import { benchDatabase } from "./bench/bench-database";
import { benchPayments } from "./bench/bench-payments-core";
import { memberWithEntries } from "./bench/member-with-entries";

const env = (k: string, d: number) => (process.env[k] ? Number(process.env[k]) : d);
const PAGE_ENTRIES = env("BENCH_PAGE_ENTRIES", 100_000);
const CSV_ENTRIES = env("BENCH_CSV_ENTRIES", 1_000_000);
const PDF_ENTRIES = env("BENCH_PDF_ENTRIES", 20_000);
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
    log(
      `load average ${os
        .loadavg()
        .map((l) => l.toFixed(1))
        .join(
          " ",
        )}; machine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? "cpu"}, ${Math.round(os.totalmem() / 2 ** 30)} GiB`,
    );
    await migrateDeploy(url);
    const db = connectDatabase(url, { max: 6 });
    const p: Payments = benchPayments(db);
    const t = Date.now();
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

    // The CSV as the app sends it (COPY with the formatting in SQL), and in the same run PostgreSQL's own COPY of
    // the same query's raw columns to a sink that discards: the ceiling our export is measured against.
    const csvAcct = await p.accounts.forUser(csvUser);
    const tz = "Australia/Sydney";
    const ours = statementCsvQuery(csvAcct, tz, {});
    const raw = {
      sql: `SELECT e.entry_no, e.created_at, u.first_name, u.last_name, o.name, ca.system_code, p.reference_no, e.type,
                   p.description, e.amount_cents, e.balance_after_cents
              ${STATEMENT_FROM}
             WHERE e.account_id = ${csvAcct} ORDER BY e.entry_no DESC`,
      settings: {},
    };
    await copyCsv(db.pool, new Counter(), raw); // warm the cache for both
    const rawRun = await timed(async () => {
      const sink = new Counter();
      return { ...(await copyCsv(db.pool, sink, raw)), bytes: sink.bytes };
    }, 1);
    global.gc?.();
    const rssBefore = process.memoryUsage().rss;
    let peak = rssBefore;
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss);
    }, 50);
    const csvRun = await timed(async () => {
      const sink = new Counter();
      return { ...(await copyCsv(db.pool, sink, ours)), bytes: sink.bytes };
    }, 1);
    clearInterval(sampler);
    const rawRate = rawRun.out.rows / (rawRun.p50 / 1000);
    const csvRate = csvRun.out.rows / (csvRun.p50 / 1000);
    const growth = (peak - rssBefore) / 2 ** 20;
    rows.push([
      `raw COPY of the same query, ${rawRun.out.rows.toLocaleString("en-AU")} rows`,
      `${(rawRun.p50 / 1000).toFixed(2)} s`,
      `${(rawRun.out.bytes / 2 ** 20).toFixed(0)} MiB`,
      `${Math.round(rawRate).toLocaleString("en-AU")} rows/s`,
      "the ceiling",
    ]);
    rows.push([
      `statement CSV, ${csvRun.out.rows.toLocaleString("en-AU")} rows`,
      `${(csvRun.p50 / 1000).toFixed(2)} s`,
      `${(csvRun.out.bytes / 2 ** 20).toFixed(0)} MiB`,
      `${Math.round(csvRate).toLocaleString("en-AU")} rows/s = ${(csvRate / rawRate).toFixed(2)}× COPY; peak RSS +${growth.toFixed(0)} MiB`,
      `goal: ≥ 0.5× COPY, RSS growth < 50 MiB: ${csvRate / rawRate >= 0.5 && growth < 50 ? "met" : "MISSED"}`,
    ]);

    // The PDF: capped at MAX_PDF_LINES (more is refused with a message); its speed at the cap.
    const pdfAcct = await p.accounts.forUser(pdfUser);
    const pdfHead = { name: "Bench PDF", identity: "ABF 1", period: "all", timeZone: tz, generatedAt: new Date() };
    const pdf = await timed(async () => {
      const chunks: Buffer[] = [];
      const s = new Writable({
        write(c: Buffer, _e, cb) {
          chunks.push(c);
          cb();
        },
      });
      await writeStatementPdf(s, pdfHead, allStatementRows(p, pdfAcct, { type: undefined, before: undefined }));
      const bytes = Buffer.concat(chunks);
      return { bytes: bytes.length, pages: bytes.toString("latin1").match(/\/Type \/Page\b(?!s)/g)?.length ?? 0 };
    }, 1);
    rows.push([
      `PDF, ${PDF_ENTRIES.toLocaleString("en-AU")} lines (cap ${MAX_PDF_LINES.toLocaleString("en-AU")})`,
      `${(pdf.p50 / 1000).toFixed(2)} s`,
      `${(pdf.out.bytes / 2 ** 20).toFixed(1)} MiB, ${pdf.out.pages} pages`,
      `${(pdf.out.pages / (pdf.p50 / 1000)).toFixed(0)} pages/s`,
      "goal: measured (capped)",
    ]);
    const refused = await writeStatementPdf(
      new Counter(),
      pdfHead,
      allStatementRows(p, csvAcct, { type: undefined, before: undefined }),
    ).then(
      () => "not refused!",
      (e: Error) => e.message,
    );
    rows.push([`PDF, ${CSV_ENTRIES.toLocaleString("en-AU")} lines`, "refused", "", refused, "goal: capped"]);

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
