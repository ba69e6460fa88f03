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

const env = (k: string, d: number) => (process.env[k] ? Number(process.env[k]) : d);
const PAGE_ENTRIES = env("BENCH_PAGE_ENTRIES", 100_000);
const CSV_ENTRIES = env("BENCH_CSV_ENTRIES", 1_000_000);
const PDF_ENTRIES = env("BENCH_PDF_ENTRIES", 5_000);
const log = (s: string) => console.log(s);

/** A member with `n` entries: one posting a minute, alternating top-ups and club payments, balances exact. */
async function memberWithEntries(db: Database, name: string, n: number): Promise<number> {
  const { rows } = await db.pool.query<{ id: number }>(
    `INSERT INTO users (system_number, first_name, last_name, email, password_hash, updated_at)
     VALUES ((SELECT coalesce(max(system_number), 950000000) + 1 FROM users), 'Bench', $1, $1 || '@example.test', 'x', now())
     RETURNING id`,
    [name],
  );
  const userId = rows[0]!.id;
  const client = await db.pool.connect();
  try {
    await client.query("BEGIN");
    const acct = (await client.query("SELECT id FROM accounts WHERE user_id = $1", [userId])).rows[0].id as number;
    const sys = (
      await client.query(
        "SELECT id, entry_count, balance_cents::text AS balance FROM accounts WHERE system_code = 'ADJUSTMENTS' FOR UPDATE",
      )
    ).rows[0] as { id: number; entry_count: number; balance: string };
    // Line g: +1000 when g is odd, −500 when even, so the balance after line g is 250g (+500 if g is odd) ≥ 0.
    await client.query(
      `WITH lines AS (
         SELECT g, CASE WHEN g % 2 = 1 THEN 1000 ELSE -500 END AS amt,
                250 * g + CASE WHEN g % 2 = 1 THEN 750 ELSE 0 END AS bal
           FROM generate_series(1, $1::int) g),
       p AS (
         INSERT INTO postings (idempotency_key, request_hash, type, description, reference_no, created_at)
         SELECT $2 || '-' || g, 'bench', CASE WHEN amt > 0 THEN 'Manual Top Up' ELSE 'Club Payment' END,
                'Bench line ' || g, 'B' || g, now() - make_interval(mins => $1::int - g)
           FROM lines
         RETURNING id, idempotency_key, created_at)
       INSERT INTO entries (posting_id, account_id, entry_no, amount_cents, balance_after_cents, type,
                            counterparty_account_id, created_at)
       SELECT p.id, x.acct, x.no, x.amt, x.bal, x.typ, x.cp, p.created_at
         FROM lines l
         JOIN p ON p.idempotency_key = $2 || '-' || l.g
         CROSS JOIN LATERAL (VALUES
           ($3::int, l.g, l.amt::bigint, l.bal::bigint, CASE WHEN l.amt > 0 THEN 'Manual Top Up' ELSE 'Club Payment' END, $4::int),
           ($4::int, $5::int + l.g, -l.amt::bigint, $6::bigint - l.bal, CASE WHEN l.amt > 0 THEN 'Manual Top Up' ELSE 'Club Payment' END, $3::int)
         ) AS x(acct, no, amt, bal, typ, cp)`,
      [n, `bench-${name}`, acct, sys.id, sys.entry_count, sys.balance],
    );
    // Both accounts' totals, as the posting engine keeps them.
    const last = (
      await client.query("SELECT balance_after_cents::text AS b FROM entries WHERE account_id = $1 AND entry_no = $2", [
        acct,
        n,
      ])
    ).rows[0].b as string;
    await client.query("UPDATE accounts SET balance_cents = $2, entry_count = $3 WHERE id = $1", [acct, last, n]);
    await client.query(
      "UPDATE accounts SET balance_cents = balance_cents - $2::bigint, entry_count = entry_count + $3 WHERE id = $1",
      [sys.id, last, n],
    );
    await client.query("COMMIT");
  } catch (e) {
    await client.query("ROLLBACK");
    throw e;
  } finally {
    client.release();
  }
  return userId;
}

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
