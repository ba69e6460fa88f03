// npm run bench:memory — does the built server's memory stay flat under use? Starts `node dist/server.js`
// (NODE_ENV=production) on a fresh database, signs members in through the login form, warms up, then sends
// BENCH_REQUESTS (50,000) mixed requests from BENCH_CONNECTIONS (8) concurrent clients: signed-in pages
// (dashboard, statement, a deep statement page, messages), statement CSVs and PDFs, signed Stripe webhooks that
// book real card top-ups, and member transfers (the form is fetched and its hidden fields sent back, as a
// browser does). The server's RSS and heap are read inside it after a full GC (a small preload answers over IPC)
// at start-up, after the warm-up and at the end, and printed beside the goals: idle RSS < 150 MB, growth
// < 20 MB. BENCH_ONLY=page (csv, pdf, webhook, transfer) sends one kind alone. A heap snapshot itself raises the
// server's RSS for good (its native buffers): compare heaps from a run with snapshots, RSS from one without. Settings: BENCH_REQUESTS, BENCH_WARMUP (3,000), BENCH_CONNECTIONS, BENCH_MEMBERS (20),
// BENCH_LINES (300 statement lines each), BENCH_HEAP_SNAPSHOTS (a folder: heap snapshots after the warm-up and
// at the end, to compare in Chrome DevTools), DATABASE_URL (else a fresh PostgreSQL in a temp folder).
import { signatureHeader } from "../src/infra/stripe-emulator";
import { connectDatabase } from "../src/db/client";
import { migrateDeploy } from "../src/db/migrate";
import { benchDatabase } from "./bench/bench-database";
import {
  BENCH_WEBHOOK_SECRET,
  type BuiltServer,
  loadAverage,
  type MemoryFigures,
  machine,
  mb,
  startBuiltServer,
} from "./bench/built-server";
import { memberWithEntries } from "./bench/member-with-entries";
import { envNumber } from "./bench/service-load";
import { hiddenFields, setBenchPassword, signIn } from "./bench/signed-in";

const REQUESTS = envNumber("BENCH_REQUESTS", 50_000);
const WARMUP = envNumber("BENCH_WARMUP", 3_000);
const CONNECTIONS = envNumber("BENCH_CONNECTIONS", 8);
const MEMBERS = envNumber("BENCH_MEMBERS", 20);
const LINES = envNumber("BENCH_LINES", 300);
const IDLE_GOAL = 150 * 2 ** 20;
const GROWTH_GOAL = 20 * 2 ** 20;

type Kind = "page" | "csv" | "pdf" | "webhook" | "transfer";
/** One cycle of the mix (20 slots): 12 pages, 2 CSVs, 1 PDF, 3 webhooks, 2 transfers (each a GET and a POST). */
const MIX: Kind[] = [
  ...Array<Kind>(12).fill("page"),
  ...Array<Kind>(2).fill("csv"),
  "pdf",
  ...Array<Kind>(3).fill("webhook"),
  ...Array<Kind>(2).fill("transfer"),
];
// BENCH_ONLY=pdf (or page, csv, webhook, transfer): one kind alone, to find which one holds memory.
const CYCLE = process.env.BENCH_ONLY ? MIX.map(() => process.env.BENCH_ONLY as Kind) : MIX;
const PAGES = ["/dashboard", "/payments/statement", "/payments/messages", "/payments/member-transfer"];

interface Member {
  id: number;
  systemNumber: number;
  cookie: string;
}

class Mix {
  counts: Record<Kind, number> = { page: 0, csv: 0, pdf: 0, webhook: 0, transfer: 0 };
  sent = 0;
  failed = 0;
  failures: string[] = [];
  private slot = 0;
  private eventNo = 0;

  constructor(
    private readonly server: BuiltServer,
    private readonly members: Member[],
    private readonly cardPaymentIds: number[],
    private readonly deep: number,
  ) {}

  private fail(what: string, res: Response, body: string) {
    this.failed++;
    if (this.failures.length < 20) this.failures.push(`${what}: ${res.status} ${body.slice(0, 200)}`);
  }

  private async get(member: Member, path: string, want = 200): Promise<string> {
    const res = await fetch(this.server.base + path, { headers: { cookie: member.cookie }, redirect: "manual" });
    const body = await res.text();
    this.sent++;
    if (res.status !== want) this.fail(`GET ${path}`, res, body);
    return body;
  }

  /** Sends one request of the next kind in the cycle (a transfer is two: its form, then the post). */
  async one(): Promise<void> {
    const kind = CYCLE[this.slot++ % CYCLE.length]!;
    const n = this.slot;
    const member = this.members[n % this.members.length]!;
    this.counts[kind]++;
    if (kind === "page") {
      const path = PAGES[Math.floor(n / CYCLE.length) % PAGES.length]!;
      await this.get(member, n % 3 === 0 && path === "/payments/statement" ? `${path}?before=${this.deep}` : path);
    } else if (kind === "csv") await this.get(member, "/payments/statement-csv");
    else if (kind === "pdf") await this.get(member, "/payments/statement-pdf");
    else if (kind === "webhook") await this.webhook();
    else await this.transfer(member, this.members[(n + 1) % this.members.length]!);
  }

  /** A signed charge.succeeded for one of the seeded pending card payments: books a top-up. */
  private async webhook() {
    const no = this.eventNo++;
    const cp = this.cardPaymentIds[no % this.cardPaymentIds.length]!;
    const body = JSON.stringify({
      id: `evt_bench_${no}`,
      object: "event",
      type: "charge.succeeded",
      created: Math.floor(Date.now() / 1000),
      data: {
        object: {
          id: `ch_bench_${cp}`,
          object: "charge",
          payment_intent: `pi_bench_${cp}`,
          amount: 2000,
          currency: "aud",
          status: "succeeded",
          payment_method_details: {
            type: "card",
            card: { brand: "visa", last4: "4242", exp_month: 12, exp_year: 2030 },
          },
        },
      },
    });
    const res = await fetch(`${this.server.base}/payments/stripe-webhook`, {
      method: "POST",
      headers: { "content-type": "application/json", "stripe-signature": signatureHeader(body, BENCH_WEBHOOK_SECRET) },
      body,
    });
    const text = await res.text();
    this.sent++;
    if (res.status !== 200 || !/"outcome":"(booked|already booked)/.test(text)) this.fail("webhook", res, text);
  }

  /** The transfer form as a browser gets it, then posted back with its hidden fields (CSRF, request id). */
  private async transfer(from: Member, to: Member) {
    const form = hiddenFields(await this.get(from, "/payments/member-transfer"), "/payments/member-transfer");
    const res = await fetch(`${this.server.base}/payments/member-transfer`, {
      method: "POST",
      redirect: "manual",
      headers: { cookie: from.cookie, "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ ...form, abf: String(to.systemNumber), amount: "0.10", description: "Bench" }),
    });
    const text = await res.text();
    this.sent++;
    if (res.status !== 302) this.fail("transfer", res, text);
  }

  /** Runs until `total` requests were sent, from `connections` concurrent clients. */
  async run(total: number, connections: number) {
    const stopAt = this.sent + total;
    await Promise.all(
      Array.from({ length: connections }, async () => {
        while (this.sent < stopAt) await this.one();
      }),
    );
  }
}

async function main() {
  const log = (s: string) => console.log(s);
  const load = loadAverage;
  log(machine());
  log(`load average before: ${load()}; Node ${process.version}`);
  const bench = await benchDatabase();
  let server: BuiltServer | null = null;
  const db = connectDatabase(bench.url, { max: 4 });
  try {
    await migrateDeploy(bench.url);
    const ids: number[] = [];
    for (let i = 0; i < MEMBERS; i++) ids.push(await memberWithEntries(db, `mem${i}`, LINES));
    await setBenchPassword(db, ids);
    // A pending card checkout per webhook to come, each booked by its charge.succeeded.
    const webhooks = Math.ceil(((REQUESTS + WARMUP) * 3) / 20) + 100;
    const { rows: cps } = await db.pool.query<{ id: number }>(
      `INSERT INTO card_payments (user_id, description, amount_cents, kind, status, currency, updated_at)
       SELECT ($1::int[])[1 + g % cardinality($1::int[])], 'Bench top-up', 2000, 'CHECKOUT', 'PENDING', 'aud', now()
         FROM generate_series(1, $2::int) g RETURNING id`,
      [ids, webhooks],
    );
    await db.pool.query("UPDATE card_payments SET stripe_payment_intent_id = 'pi_bench_' || id");
    await db.pool.query("VACUUM ANALYZE");
    const users = await db.pool.query<{ id: number; system_number: number }>(
      "SELECT id, system_number FROM users WHERE id = ANY($1::int[]) ORDER BY id",
      [ids],
    );

    server = await startBuiltServer(bench.url, { probe: true });
    const boot = await server.memory();
    const members: Member[] = [];
    for (const u of users.rows) {
      members.push({ id: u.id, systemNumber: u.system_number, cookie: await signIn(server.base, u.system_number) });
    }
    log(`${MEMBERS} members × ${LINES} statement lines, ${cps.length} pending card payments; server pid ${server.pid}`);

    const mix = new Mix(
      server,
      members,
      cps.map((c) => c.id),
      Math.floor(LINES / 2),
    );
    let t = Date.now();
    await mix.run(WARMUP, CONNECTIONS);
    log(`warm-up: ${mix.sent} requests in ${((Date.now() - t) / 1000).toFixed(1)} s`);
    const snapshots = process.env.BENCH_HEAP_SNAPSHOTS;
    if (snapshots) log(`heap snapshot: ${await server.heapSnapshot(snapshots)}`);
    const start = await server.memory();
    const warmSent = mix.sent;
    let peak = server.rss();
    const sampler = setInterval(() => {
      peak = Math.max(peak, server!.rss());
    }, 250);
    t = Date.now();
    // Progress every tenth, so a climb shows its shape, not just its ends.
    const step = Math.ceil(REQUESTS / 10);
    const trail: string[] = [];
    for (let done = 0; done < REQUESTS; done += step) {
      await mix.run(Math.min(step, REQUESTS - done), CONNECTIONS);
      trail.push(mb(server.rss()).replace(" MB", ""));
    }
    clearInterval(sampler);
    const secs = (Date.now() - t) / 1000;
    const end = await server.memory();
    if (snapshots) log(`heap snapshot: ${await server.heapSnapshot(snapshots)}`);
    const measured = mix.sent - warmSent;
    log(
      `measured: ${measured} requests in ${secs.toFixed(1)} s (${(measured / secs).toFixed(0)}/s); mix ${JSON.stringify(mix.counts)}`,
    );
    log(`RSS (no GC) after each tenth: ${trail.join(", ")} MB; peak ${mb(peak)}`);

    const row = (what: string, m: MemoryFigures) => [what, mb(m.rss), mb(m.heapUsed), mb(m.heapTotal), mb(m.external)];
    const growth = end.rss - start.rss;
    const table = [
      ["", "RSS", "heap used", "heap total", "external"],
      row("idle after start-up", boot),
      row(`after ${warmSent} warm-up requests`, start),
      row(`after ${measured} more`, end),
      [
        "growth",
        mb(growth),
        mb(end.heapUsed - start.heapUsed),
        mb(end.heapTotal - start.heapTotal),
        mb(end.external - start.external),
      ],
    ];
    if (process.env.BENCH_DEBUG) {
      for (const [name, [size, used]] of Object.entries(end.spaces)) {
        const [s0, u0] = start.spaces[name] ?? [0, 0];
        log(`  ${name}: size ${mb(s0)} → ${mb(size)}, used ${mb(u0)} → ${mb(used)}`);
      }
    }
    const widths = table[0]!.map((_, i) => Math.max(...table.map((r) => r[i]!.length)));
    log("");
    for (const r of table) log(r.map((c, i) => (i ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join("  "));
    // The goal is the idle server's; warmed up, the young generation has grown to its working size and every
    // kind of request has loaded its code and data (docs/performance.md says what those megabytes are).
    const idleMet = boot.rss < IDLE_GOAL;
    log(
      `\ngoal: built server idle RSS < 150 MB: ${mb(boot.rss)} at start-up: ${idleMet ? "met" : "MISSED"} (warmed up, idle again: ${mb(start.rss)})`,
    );
    log(`goal: growth < 20 MB over ${measured} requests: ${mb(growth)}: ${growth < GROWTH_GOAL ? "met" : "MISSED"}`);
    const bad = await db.pool.query("SELECT rule, subject FROM ledger_violations() LIMIT 5");
    log(`failed requests: ${mix.failed}; ledger invariants: ${bad.rows.length ? "BROKEN" : "ok"}`);
    for (const f of mix.failures) log(`  ${f}`);
    log(`load average after: ${load()}`);
    if (mix.failed || bad.rows.length || !idleMet || growth >= GROWTH_GOAL) process.exitCode = 1;
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
