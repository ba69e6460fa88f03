// npm run bench:http — the member pages under load against the built server (`node dist/server.js`,
// NODE_ENV=production). A 1,000,000-entry ledger (BENCH_ENTRIES) is seeded with SQL: BENCH_MEMBERS (50) members,
// one of them with BENCH_BIG (100,000) statement lines, the rest sharing the remainder, each with 30 messages.
// All members sign in through the login form; then autocannon drives each page in turn from BENCH_CONNECTIONS
// (50) connections, each connection one member's session: the dashboard, statement page 1, a deep statement page
// (the middle of the member's statement) and the Messages page, and in the same run /healthz, the framework's
// ceiling. Printed: req/s, p50/p99 per page, req/s ÷ /healthz req/s and CPU milliseconds per request of the app
// server, PostgreSQL and autocannon (scripts/bench/cpu-meter.ts: they share the machine's cores, so this says
// which side a page waits on), beside the goals (p99 < 100 ms on every page; dashboard ≥ 0.25× /healthz). Settings: BENCH_SECONDS (10 per page), BENCH_WARMUP (3 s per page),
// BENCH_SOCKET=1 (the app reaches PostgreSQL over a Unix-domain socket, as when both run on one host),
// BENCH_PROFILE_DIR (a fresh server per page, each writing
// <page>.cpuprofile there; `node --import tsx scripts/bench/profile-summary.ts <file>` sums one up), DATABASE_URL (else a fresh PostgreSQL).
import { randomUUID } from "node:crypto";
import autocannon from "autocannon";
import { connectDatabase } from "../src/db/client";
import { migrateDeploy } from "../src/db/migrate";
import { benchDatabase } from "./bench/bench-database";
import { type BuiltServer, loadAverage, machine, startBuiltServer } from "./bench/built-server";
import { type CpuSplit, cpuMeter } from "./bench/cpu-meter";
import { memberWithEntries } from "./bench/member-with-entries";
import { envNumber } from "./bench/service-load";
import { setBenchPassword, signIn } from "./bench/signed-in";

const ENTRIES = envNumber("BENCH_ENTRIES", 1_000_000);
const BIG = envNumber("BENCH_BIG", 100_000);
const MEMBERS = envNumber("BENCH_MEMBERS", 50);
const CONNECTIONS = envNumber("BENCH_CONNECTIONS", 50);
const SECONDS = envNumber("BENCH_SECONDS", 10);
const WARMUP = envNumber("BENCH_WARMUP", 3);

interface Member {
  lines: number;
  cookie: string;
}

interface Page {
  name: string;
  /** The path this member asks for; signed-in pages send the member's cookie. */
  path: (m: Member) => string;
  signedIn: boolean;
}

const PAGES: Page[] = [
  { name: "/healthz (ceiling)", path: () => "/healthz", signedIn: false },
  { name: "dashboard", path: () => "/dashboard", signedIn: true },
  { name: "statement page 1", path: () => "/payments/statement", signedIn: true },
  {
    name: "statement, deep page",
    path: (m) => `/payments/statement?before=${Math.floor(m.lines / 2)}`,
    signedIn: true,
  },
  { name: "messages", path: () => "/payments/messages", signedIn: true },
];

/** Seeds the ledger: each member's lines pair with the adjustments account, so ENTRIES entries are ENTRIES/2 lines. */
async function seed(db: ReturnType<typeof connectDatabase>) {
  const lines = Math.floor(ENTRIES / 2);
  const rest = Math.floor((lines - BIG) / (MEMBERS - 1));
  const members: { id: number; lines: number }[] = [];
  for (let i = 0; i < MEMBERS; i++) {
    const n = i === 0 ? BIG : rest;
    members.push({ id: await memberWithEntries(db, `http${i}`, n), lines: n });
  }
  await db.pool.query(
    `INSERT INTO notifications (user_id, kind, subject, body, link_url, link_text, dedupe_key, send_email, created_at)
     SELECT u, 'transfer_in', 'You received B$' || g || '.00', 'A member sent you B$' || g || '.00 for table money.',
            '/payments/statement', 'Your statement', 'bench:' || u || ':' || g, false, now() - make_interval(hours => g)
       FROM unnest($1::int[]) u CROSS JOIN generate_series(1, 30) g`,
    [members.map((m) => m.id)],
  );
  await setBenchPassword(
    db,
    members.map((m) => m.id),
  );
  await db.pool.query("VACUUM ANALYZE");
  const { rows } = await db.pool.query<{ n: string }>("SELECT count(*)::text AS n FROM entries");
  return { members, entries: Number(rows[0]!.n) };
}

interface Result {
  rps: number;
  p50: number;
  p99: number;
  bad: number;
  cpu: CpuSplit | null;
}

async function drive(server: BuiltServer, members: Member[], page: Page, seconds: number): Promise<Result> {
  let next = 0;
  let wrong = 0;
  const meter = cpuMeter(server.pid);
  const r = await autocannon({
    url: server.base,
    connections: CONNECTIONS,
    duration: seconds,
    requests: [
      {
        method: "GET",
        // Each connection is one member: the first request picks the member and keeps it in the connection's context.
        setupRequest: (req, context) => {
          context.member ??= members[next++ % members.length];
          const m = context.member as Member;
          return {
            ...req,
            path: page.path(m),
            headers: page.signedIn ? { cookie: m.cookie } : ({} as Record<string, string>),
          };
        },
        onResponse: (status) => {
          if (status !== 200) wrong++;
        },
      },
    ],
  });
  return {
    rps: r.requests.total / r.duration,
    p50: r.latency.p50,
    p99: r.latency.p99,
    bad: r.errors + r.timeouts + r.non2xx + wrong,
    cpu: meter.stop(r.requests.total),
  };
}

async function main() {
  const log = (s: string) => console.log(s);
  const load = loadAverage;
  log(machine());
  const bench = await benchDatabase({ socket: process.env.BENCH_SOCKET === "1" });
  const db = connectDatabase(bench.url, { max: 4 });
  let server: BuiltServer | null = null;
  try {
    await migrateDeploy(bench.url);
    const t = Date.now();
    const seeded = await seed(db);
    log(
      `seeded ${seeded.entries.toLocaleString("en-AU")} entries for ${MEMBERS} members (one with ${BIG.toLocaleString("en-AU")} lines) in ${((Date.now() - t) / 1000).toFixed(0)} s`,
    );
    // With BENCH_PROFILE_DIR each page gets a fresh server and its own profile (<page>.cpuprofile), so a profile
    // is one page's work; sessions live in the database, so the members stay signed in across the restarts.
    const profiling = !!process.env.BENCH_PROFILE_DIR;
    const secrets = { SESSION_SECRET: randomUUID() + randomUUID(), APP_ENCRYPTION_KEY: randomUUID() + randomUUID() };
    const serverFor = (name: string) =>
      startBuiltServer(bench.url, {
        env: secrets, // the same on each restart, or the members' cookies would no longer be valid
        nodeArgs: profiling ? [`--cpu-prof-name=${name.replace(/\W+/g, "-").replace(/^-|-$/g, "")}.cpuprofile`] : [],
      });
    server = await serverFor("sign-in");
    const members: Member[] = [];
    const { rows } = await db.pool.query<{ id: number; system_number: number }>(
      "SELECT id, system_number FROM users WHERE id = ANY($1::int[])",
      [seeded.members.map((m) => m.id)],
    );
    const numbers = new Map(rows.map((r) => [r.id, r.system_number]));
    for (const m of seeded.members)
      members.push({ lines: m.lines, cookie: await signIn(server.base, numbers.get(m.id)!) });
    log(`load average before: ${load()}; Node ${process.version}; ${CONNECTIONS} connections, ${SECONDS} s per page`);

    const results = new Map<Page, Result>();
    // BENCH_PAGES=dashboard,messages: only those (and /healthz), e.g. to profile one page.
    const only = process.env.BENCH_PAGES?.split(",");
    for (const page of PAGES.filter((p) => !only || !p.signedIn || only.some((o) => p.name.startsWith(o)))) {
      if (profiling) {
        await server.stop();
        server = null;
        server = await serverFor(page.name);
      }
      await drive(server, members, page, WARMUP);
      results.set(page, await drive(server, members, page, SECONDS));
    }
    const ceiling = results.get(PAGES[0]!)!.rps;
    const table = [["page", "req/s", "p50", "p99", "÷ /healthz", "CPU ms/req: app db load", "goal", "failed"]];
    let failed = false;
    for (const [page, r] of results) {
      const ratio = r.rps / ceiling;
      const goals: string[] = [];
      if (page.signedIn) goals.push(`p99 < 100 ms: ${r.p99 < 100 ? "met" : "MISSED"}`);
      if (page.name === "dashboard") goals.push(`≥ 0.25× /healthz: ${ratio >= 0.25 ? "met" : "MISSED"}`);
      failed ||= goals.some((g) => g.endsWith("MISSED")) || r.bad > 0;
      table.push([
        page.name,
        r.rps.toFixed(0),
        `${r.p50} ms`,
        `${r.p99} ms`,
        `${ratio.toFixed(2)}×`,
        r.cpu ? [r.cpu.server, r.cpu.database, r.cpu.loadGenerator].map((ms) => ms.toFixed(2)).join(" ") : "",
        goals.join("; "),
        String(r.bad),
      ]);
    }
    const widths = table[0]!.map((_, i) => Math.max(...table.map((r) => r[i]!.length)));
    log("");
    for (const r of table) log(r.map((c, i) => c.padEnd(widths[i]!)).join("  "));
    log(`\nload average after: ${load()}`);
    if (failed) process.exitCode = 1;
  } finally {
    await server?.stop();
    await db.close();
    await bench.stop();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
