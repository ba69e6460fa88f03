// The two raw-SQL baselines of notes/perf-ceilings.md, run with pgbench on the same database as our service
// layer: the 5-statement payment transaction, and the same payment as one data-modifying statement. They use
// their own tables (schema bench) with the same data volumes as the service run.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type pg from "pg";
import { candidateBinDirs } from "../../src/infra/postgres/binaries";

export function findPgbench(): string | null {
  for (const dir of candidateBinDirs()) {
    const p = path.join(dir, "pgbench");
    if (fs.existsSync(p)) return p;
  }
  return null;
}

export async function setupBaselineTables(pool: pg.Pool, members: number, clubs: number) {
  await pool.query(`
    DROP SCHEMA IF EXISTS bench CASCADE;
    CREATE SCHEMA bench;
    CREATE TABLE bench.account (id bigint PRIMARY KEY, balance_cents bigint NOT NULL);
    CREATE TABLE bench.entry (id bigserial PRIMARY KEY, account_id bigint, amount_cents bigint,
                              balance_after bigint, idem text UNIQUE, created_at timestamptz DEFAULT now());
    CREATE INDEX ON bench.entry (account_id, id DESC);
    INSERT INTO bench.account SELECT g, 100000000 FROM generate_series(1, ${members}) g;
    INSERT INTO bench.account SELECT ${members} + g, 0 FROM generate_series(1, ${clubs}) g;
    ANALYZE bench.account;`);
}

function script(kind: "five" | "one", mode: "spread" | "hot", members: number, clubs: number) {
  const club = mode === "hot" ? `\\set c ${members + 1}` : `\\set c random(${members + 1}, ${members + clubs})`;
  const head = [
    `\\set m random(1, ${members})`,
    club,
    "\\set amt random(1, 1000)",
    "\\set neg 0 - :amt",
    "\\set k random(1, 4000000000000000000)",
  ];
  const five = [
    "BEGIN;",
    "SELECT sum(balance_cents) FILTER (WHERE id = :m) AS mbal FROM (SELECT id, balance_cents FROM bench.account WHERE id IN (:m, :c) ORDER BY id FOR UPDATE) s \\gset",
    "\\if :mbal >= :amt",
    "UPDATE bench.account SET balance_cents = balance_cents - :amt WHERE id = :m RETURNING balance_cents AS mb \\gset",
    "UPDATE bench.account SET balance_cents = balance_cents + :amt WHERE id = :c RETURNING balance_cents AS cb \\gset",
    "INSERT INTO bench.entry (account_id, amount_cents, balance_after, idem) VALUES (:m, :neg, :mb, 'pb-' || (:k)::text || '-d'), (:c, :amt, :cb, 'pb-' || (:k)::text || '-c');",
    "COMMIT;",
    "\\else",
    "ROLLBACK;",
    "\\endif",
  ];
  const one = [
    "WITH d AS (UPDATE bench.account SET balance_cents = balance_cents - :amt WHERE id = :m AND balance_cents >= :amt RETURNING balance_cents),",
    "     k AS (UPDATE bench.account SET balance_cents = balance_cents + :amt WHERE id = :c AND EXISTS (SELECT 1 FROM d) RETURNING balance_cents)",
    "INSERT INTO bench.entry (account_id, amount_cents, balance_after, idem)",
    "SELECT (:m)::bigint, (:neg)::bigint, d.balance_cents, 'pb-' || (:k)::text || '-d' FROM d",
    "UNION ALL",
    "SELECT (:c)::bigint, (:amt)::bigint, k.balance_cents, 'pb-' || (:k)::text || '-c' FROM k;",
  ];
  // pgbench wants each SQL command on one line (a backslash command ends at the line's end).
  const body = kind === "five" ? five : [one.join(" ")];
  return [...head, ...body].join("\n");
}

export interface PgbenchResult {
  tps: number;
  latencyMs: number;
}

export function runPgbench(
  bin: string,
  url: string,
  opts: {
    kind: "five" | "one";
    mode: "spread" | "hot";
    clients: number;
    seconds: number;
    members: number;
    clubs: number;
  },
): PgbenchResult {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "pgb-")), "pay.sql");
  fs.writeFileSync(file, script(opts.kind, opts.mode, opts.members, opts.clubs));
  const u = new URL(url);
  const args = ["-n", "-M", "prepared", "-c", String(opts.clients), "-j", "2", "-T", String(opts.seconds), "-f", file];
  const host = u.searchParams.get("host") ?? u.hostname; // a socket folder when the URL names one
  args.push("-h", host, "-p", u.port || "5432", "-U", decodeURIComponent(u.username || "postgres"));
  args.push(u.pathname.slice(1) || "postgres");
  const env = { ...process.env, PGPASSWORD: decodeURIComponent(u.password) };
  const r = spawnSync(bin, args, { encoding: "utf8", env });
  fs.rmSync(path.dirname(file), { recursive: true, force: true });
  const tps = /tps = ([\d.]+)/.exec(r.stdout ?? "");
  const lat = /latency average = ([\d.]+) ms/.exec(r.stdout ?? "");
  if (r.status !== 0 || !tps) throw new Error(`pgbench failed: ${r.stderr || r.stdout}`);
  return { tps: Number(tps[1]), latencyMs: Number(lat?.[1] ?? Number.NaN) };
}

export async function verifyBaselineTables(pool: pg.Pool, members: number): Promise<string[]> {
  const { rows } = await pool.query(`
    SELECT
     (SELECT sum(balance_cents) FROM bench.account) = ${members}::bigint * 100000000 AS conserved,
     (SELECT count(*) FROM bench.account a LEFT JOIN (SELECT account_id, sum(amount_cents) s FROM bench.entry GROUP BY account_id) e
        ON e.account_id = a.id
       WHERE a.balance_cents <> (CASE WHEN a.id <= ${members} THEN 100000000 ELSE 0 END) + coalesce(e.s, 0)) AS bad_sum,
     (SELECT count(*) FROM bench.account WHERE balance_cents < 0) AS negative`);
  const r = rows[0];
  const problems: string[] = [];
  if (!r.conserved) problems.push("baseline: money not conserved");
  if (Number(r.bad_sum) > 0) problems.push(`baseline: ${r.bad_sum} accounts disagree with their entries`);
  if (Number(r.negative) > 0) problems.push("baseline: negative balances");
  return problems;
}
