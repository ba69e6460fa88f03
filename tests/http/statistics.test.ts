// The statistics page (issue 19 item 3) over HTTP on real parts: a ledger of 400 days built with random amounts
// (dated postings through the ledger engine, then today's card top-ups, transfers and IOUs through the services),
// and the page's numbers — figures, weekly buckets, money held, the balance histogram, the status summary —
// compared with SQL written here independently (local calendar days, one query per week, bins in JS), for random
// periods whose edges fall on postings booked at local midnight and just before it. Who may see which page, and
// bad periods answered with a 400 page that shows nothing else.
import fc from "fast-check";
import request from "supertest";
import type TestAgent from "supertest/lib/agent";
import type { TransactionType } from "../../src/services/ledger/transaction-types";
import { createIou, payIou } from "../../src/services/payments/ious";
import { memberTransfer } from "../../src/services/payments/member-transfer";
import { orgToMemberTransfer } from "../../src/services/payments/org-to-member-transfer";
import { makeClub, makeUser, signIn } from "../helpers/app";
import {
  type CardStack,
  failedStripeEvent,
  paidWithWebhookHeld,
  startCardStack,
  topUpByCard,
} from "../helpers/card-stack";
import { key, violations } from "../helpers/payments";

let s: CardStack;
const TZ = "Australia/Sydney";
let clubA: { id: number };
let clubB: { id: number };
let members: Awaited<ReturnType<typeof makeUser>>[];
const agents = {} as Record<"finance" | "officerA" | "viewerA" | "officerB" | "member", TestAgent>;
let pendingCardCents: bigint;
/** Periods whose edges fall exactly on postings at a day's first or last millisecond. */
const edges: [string, string][] = [];

/** A small seeded generator, so a failure can be replayed (the seed is in the test's name). */
const SEED = Number(process.env.STATS_SEED ?? Date.now() % 1_000_000);
let state = SEED;
function rand(n: number) {
  state = (state * 1_103_515_245 + 12_345) % 2_147_483_648;
  return Math.floor((state / 2_147_483_648) * n);
}

const DAY = 86_400_000;
const today = () => new Intl.DateTimeFormat("en-CA", { timeZone: TZ }).format(new Date());
const addDays = (d: string, n: number) => new Date(Date.parse(`${d}T00:00:00Z`) + n * DAY).toISOString().slice(0, 10);
const day = (offset: number) => addDays(today(), offset);
/** The instant `ms` after local midnight starting `date` (computed by PostgreSQL from the zone's rules). */
async function localInstant(date: string, ms: number) {
  const { rows } = await s.p.pool.query<{ t: Date }>("SELECT ($1::date::timestamp AT TIME ZONE $2) AS t", [date, TZ]);
  return new Date(rows[0]!.t.getTime() + ms);
}

beforeAll(async () => {
  s = await startCardStack({ maxConnections: 20 });
  clubA = await makeClub(s.p.db, "Stats Club");
  clubB = await makeClub(s.p.db, "Other Club");
  members = [];
  for (let i = 0; i < 16; i++) members.push(await makeUser(s.p.db, { firstName: i % 3 ? "Zoë" : "Ngaio" }));
  const people = {
    finance: await makeUser(s.p.db, { level: "VIEW" }),
    officerA: await makeUser(s.p.db, { level: "EDIT", orgId: clubA.id }),
    viewerA: await makeUser(s.p.db, { level: "VIEW", orgId: clubA.id }),
    officerB: await makeUser(s.p.db, { level: "EDIT", orgId: clubB.id }),
    member: members[0]!,
  };
  for (const [k, u] of Object.entries(people)) agents[k as keyof typeof agents] = (await signIn(s.app, u.email)).agent;

  // Balances tracked here only to keep every booking within what the payer holds.
  const held = new Map<string, bigint>();
  const bal = (k: string) => held.get(k) ?? 0n;
  const move = (from: string, to: string, c: bigint) => {
    held.set(from, bal(from) - c);
    held.set(to, bal(to) + c);
  };
  const acct = (k: string) =>
    k.startsWith("m")
      ? { userId: members[Number(k.slice(1))]!.id }
      : { organisationId: k === "A" ? clubA.id : clubB.id };
  async function book(type: TransactionType, from: string | "CARD", to: string, cents: bigint, at: Date) {
    const payer = from === "CARD" ? { system: "CARD_FUNDS" as const } : acct(from);
    const r = await s.p.ledger.post({
      idempotencyKey: key("stats"),
      type,
      description: `${type} ${cents}`,
      at,
      entries: [
        { ...payer, amountCents: -cents, counterparty: 1 },
        { ...acct(to), amountCents: cents, counterparty: 0 },
      ],
    });
    if (r.status !== "POSTED") throw new Error(`not booked: ${r.status}`);
    if (from !== "CARD") move(from, to, cents);
    else held.set(to, bal(to) + cents);
  }

  // Opening money 420 days ago: random top-ups for members (some none), and each club's takings.
  for (let i = 0; i < members.length; i++) {
    const cents = BigInt([0, 450, 1_999, 4_000, 9_000, 30_000, 70_000][rand(7)]! + rand(500));
    if (i % 5 && cents > 0n)
      await book("Manual Top Up", "CARD", `m${i}`, cents, await localInstant(day(-420), 3_600_000));
  }
  // 220 dated postings in time order, on random days, many at local midnight or the millisecond before it (the
  // edges of days, weeks and periods).
  const days = Array.from({ length: 220 }, () => -410 + rand(411)).sort((a, b) => a - b);
  for (const d of days) {
    const at = await localInstant(day(d), [0, DAY - 1, 3_600_000 * (1 + rand(22))][rand(3)]!);
    const m = `m${rand(members.length)}`;
    const other = `m${rand(members.length)}`;
    const club = rand(3) ? "A" : "B";
    const cents = BigInt(100 + rand(9_000));
    const kind = rand(8);
    if (kind <= 1) await book(["Manual Top Up", "Auto Top Up"][kind] as TransactionType, "CARD", m, cents, at);
    else if (kind <= 4 && bal(m) >= cents)
      await book((["Club Payment", "Entry to an event", "Club Membership"] as const)[kind - 2]!, m, club, cents, at);
    else if (kind === 5 && bal(m) >= cents && m !== other) await book("Member Transfer", m, other, cents, at);
    else if (kind === 6 && bal(club) >= cents) await book(rand(2) ? "Org Transfer" : "Refund", club, m, cents, at);
    else if (kind === 7 && bal(club) >= cents) await book("Club Top Up", club, m, cents, at);
  }

  // Fixed edges: a top-up at the very start of a Monday five weeks back and one at the last millisecond of the
  // Sunday before; members holding exactly each bin's bound and a cent less.
  const monday = addDays(day(0), -((new Date(`${day(0)}T00:00:00Z`).getUTCDay() + 6) % 7) - 35);
  await book("Manual Top Up", "CARD", "m1", 777n, await localInstant(addDays(monday, -1), DAY - 1));
  await book("Manual Top Up", "CARD", "m2", 888n, await localInstant(monday, 0));
  // Both in, each alone (the other just outside the period), and a period starting on the Monday.
  edges.push([addDays(monday, -1), monday], [monday, monday], [addDays(monday, -1), addDays(monday, -1)]);
  edges.push([monday, day(0)]);
  for (const bound of [1n, 1_000n, 2_500n, 5_000n, 10_000n, 25_000n, 50_000n]) {
    for (const c of [bound - 1n, bound]) {
      const m = await makeUser(s.p.db);
      if (c > 0n)
        await s.p.ledger.post({
          idempotencyKey: key("edge"),
          type: "Manual Top Up",
          description: "Edge",
          at: await localInstant(day(-2), 3_600_000),
          entries: [
            { system: "CARD_FUNDS", amountCents: -c, counterparty: 1 },
            { userId: m.id, amountCents: c, counterparty: 0 },
          ],
        });
    }
  }

  // Today, through the services: card top-ups at the emulator, a transfer, a club's transfer, an IOU paid and one
  // left open.
  const [m0, m1, m2] = members as [(typeof members)[0], (typeof members)[0], (typeof members)[0]];
  await topUpByCard(s, m0.id, 12_345n);
  await topUpByCard(s, m1.id, 5_000n);
  expect(
    (
      await memberTransfer(s.p, {
        fromUserId: m0.id,
        toUserId: m2.id,
        amountCents: 1_111n,
        description: "Dinner",
        idempotencyKey: key("t"),
      })
    ).ok,
  ).toBe(true);
  if (bal("A") >= 700n) {
    await orgToMemberTransfer(s.p, {
      organisationId: clubA.id,
      toUserId: m2.id,
      amountCents: 700n,
      description: "Prize",
      actorUserId: people.officerA.id,
      idempotencyKey: key("o"),
    });
  }
  const paid = await createIou(s.p, {
    systemNumber: m0.systemNumber,
    organisationId: clubA.id,
    amountCents: 2_222n,
    description: "Table money",
  });
  expect((await payIou(s.p, { iouId: paid.id, payerUserId: m0.id })).ok).toBe(true);
  await createIou(s.p, {
    systemNumber: m0.systemNumber,
    organisationId: clubA.id,
    amountCents: 3_333n,
    description: "Owed",
  });

  // For the status summary: a card payment waiting for Stripe, a Stripe event that failed, two failed e-mails.
  pendingCardCents = (await paidWithWebhookHeld(s, m1.id, 4_444n)).amountCents;
  await failedStripeEvent(s, { id: "ch_x", object: "charge" });
  await s.p.pool.query(
    `INSERT INTO notifications (user_id, kind, subject, body, dedupe_key, send_attempts, last_error)
     VALUES ($1, 'test', 'a', 'b', $2, 1, 'mailbox full'), ($1, 'test', 'c', 'd', $3, 5, 'no such user')`,
    [m0.id, key("n"), key("n")],
  );
}, 180_000);

afterAll(async () => {
  expect(await violations(s.p)).toEqual([]);
  await s.p.ledger.close();
  await s.close();
});

// --- reading the page ---------------------------------------------------------------------------------------

const text = (html: string) =>
  html
    .replace(/<[^>]+>/g, "")
    .replace(/&amp;/g, "&")
    .trim();
/** "$1,234.56" / "-$5.00" → cents. */
const cents = (money: string) => BigInt(money.replace(/[$,]/g, "").replace(".", ""));

function tableRows(html: string, id: string) {
  const table = new RegExp(`<table[^>]*id="${id}">[\\s\\S]*?</table>`).exec(html)?.[0] ?? "";
  const body = /<tbody>([\s\S]*?)<\/tbody>/.exec(table)?.[1] ?? "";
  return [...body.matchAll(/<tr[^>]*>([\s\S]*?)<\/tr>/g)].map((r) =>
    [...r[1]!.matchAll(/<t[dh][^>]*>([\s\S]*?)<\/t[dh]>/g)].map((c) => text(c[1]!)),
  );
}

/** The figures table: key → [count, cents]. */
function figures(html: string) {
  return new Map(
    [...html.matchAll(/<tr data-figure="([\w-]+)">([\s\S]*?)<\/tr>/g)].map((m) => {
      const cells = [...m[2]!.matchAll(/<t[dh][^>]*>([\s\S]*?)<\/t[dh]>/g)].map((c) => text(c[1]!));
      return [m[1]!, { count: cells[1] ? Number(cells[1]) : null, cents: cells[2] ? cents(cells[2]) : null }];
    }),
  );
}

const statusFigure = (html: string, name: string) =>
  text(new RegExp(`<dd[^>]*data-figure="${name}">([\\s\\S]*?)</dd>`).exec(html)?.[1] ?? "");

// --- the same numbers, computed here --------------------------------------------------------------------------

const TOP_UPS = "('Manual Top Up', 'Auto Top Up', 'CC Payment')";
const PAYMENTS = "('Club Payment', 'Entry to an event', 'Club Membership', 'Miscellaneous')";

/** Sums over the entries of members and clubs (or one club) whose local calendar day is in [from, to]. */
async function sumsBetween(from: string, to: string, club: number | null) {
  const { rows } = await s.p.pool.query(
    `SELECT
       count(*) FILTER (WHERE t.top_up)::int AS top_ups, coalesce(sum(t.top_up_cents) FILTER (WHERE t.top_up), 0)::text AS top_up_cents,
       count(*) FILTER (WHERE t.payment)::int AS payments, coalesce(sum(t.payment_cents) FILTER (WHERE t.payment), 0)::text AS payment_cents,
       count(*) FILTER (WHERE t.kind = 'MEMBER' AND t.type = 'Member Transfer' AND t.amount < 0)::int AS transfers,
       coalesce(-sum(t.amount) FILTER (WHERE t.kind = 'MEMBER' AND t.type = 'Member Transfer' AND t.amount < 0), 0)::text AS transfer_cents,
       count(*) FILTER (WHERE t.kind = 'ORGANISATION' AND t.type = 'Org Transfer')::int AS org_transfers,
       coalesce(-sum(t.amount) FILTER (WHERE t.kind = 'ORGANISATION' AND t.type = 'Org Transfer'), 0)::text AS org_transfer_cents,
       count(*) FILTER (WHERE t.kind = 'ORGANISATION' AND t.type = 'Refund')::int AS refunds,
       coalesce(-sum(t.amount) FILTER (WHERE t.kind = 'ORGANISATION' AND t.type = 'Refund'), 0)::text AS refund_cents
       FROM (SELECT a.kind::text AS kind, e.type, e.amount_cents AS amount,
                    CASE WHEN $3::int IS NULL THEN a.kind = 'MEMBER' AND e.type IN ${TOP_UPS} ELSE e.type = 'Club Top Up' END AS top_up,
                    CASE WHEN $3::int IS NULL THEN e.amount_cents ELSE -e.amount_cents END AS top_up_cents,
                    (e.type IN ${PAYMENTS} AND a.kind = CASE WHEN $3::int IS NULL THEN 'MEMBER' ELSE 'ORGANISATION' END::"AccountKind") AS payment,
                    CASE WHEN $3::int IS NULL THEN -e.amount_cents ELSE e.amount_cents END AS payment_cents
               FROM entries e JOIN accounts a ON a.id = e.account_id
              WHERE (e.created_at AT TIME ZONE $4)::date BETWEEN $1::date AND $2::date
                AND (CASE WHEN $3::int IS NULL THEN a.kind IN ('MEMBER', 'ORGANISATION') ELSE a.organisation_id = $3 END)) t`,
    [from, to, club, TZ],
  );
  return rows[0] as Record<string, string | number>;
}

/** Money held at the end of local day `d`: members', clubs' (or one club's). */
async function heldAt(d: string, club: number | null) {
  const { rows } = await s.p.pool.query(
    `SELECT coalesce(sum(e.amount_cents) FILTER (WHERE a.kind = 'MEMBER'), 0)::text AS members,
            coalesce(sum(e.amount_cents) FILTER (WHERE a.kind = 'ORGANISATION'), 0)::text AS clubs
       FROM entries e JOIN accounts a ON a.id = e.account_id
      WHERE (e.created_at AT TIME ZONE $2)::date <= $1::date
        AND ($3::int IS NULL OR a.organisation_id = $3)`,
    [d, TZ, club],
  );
  return { members: BigInt(rows[0].members), clubs: BigInt(rows[0].clubs) };
}

/** The period's weeks (Monday to Sunday), cut to the period: [first day, last day]. */
function weeksOf(from: string, to: string) {
  const dow = (new Date(`${from}T00:00:00Z`).getUTCDay() + 6) % 7;
  const out: [string, string][] = [];
  for (let monday = addDays(from, -dow); monday <= to; monday = addDays(monday, 7)) {
    const sunday = addDays(monday, 6);
    out.push([monday < from ? from : monday, sunday > to ? to : sunday]);
  }
  return out;
}

/** The bins the page promises, in dollars, written out again here. */
const BINS_DOLLARS = [0.01, 10, 25, 50, 100, 250, 500];
function binOf(c: bigint) {
  let i = 0;
  while (i < BINS_DOLLARS.length && c >= BigInt(Math.round(BINS_DOLLARS[i]! * 100))) i++;
  return i;
}
async function histogram(club: number | null) {
  const { rows } = await s.p.pool.query<{ b: string }>(
    club === null
      ? "SELECT balance_cents::text AS b FROM accounts WHERE kind = 'MEMBER'"
      : // Members on the other side of any of the club's postings.
        `SELECT DISTINCT a.id, a.balance_cents::text AS b FROM entries e JOIN accounts a ON a.id = e.account_id
          WHERE a.kind = 'MEMBER' AND e.posting_id IN (
            SELECT ce.posting_id FROM entries ce JOIN accounts ca ON ca.id = ce.account_id WHERE ca.organisation_id = $1)`,
    club === null ? [] : [club],
  );
  const bins = BINS_DOLLARS.map(() => ({ n: 0, c: 0n })).concat([{ n: 0, c: 0n }]);
  for (const r of rows) {
    const b = bins[binOf(BigInt(r.b))]!;
    b.n++;
    b.c += BigInt(r.b);
  }
  // A club's page holds back bins of 1 to 4 members (one player's balance could be read off a bin of one).
  return bins.map((b) => (club !== null && b.n > 0 && b.n < 5 ? ["fewer than 5", "—"] : [String(b.n), b.c]));
}

async function checkPage(html: string, from: string, to: string, club: number | null) {
  expect(html).toContain(`From ${from} to ${to}`);
  const f = figures(html);
  const x = await sumsBetween(from, to, club);
  const tally = (count: string, sum: string) => ({ count: Number(x[count]), cents: BigInt(x[sum]!) });
  expect(f.get("top-ups")).toEqual(tally("top_ups", "top_up_cents"));
  expect(f.get("payments")).toEqual(tally("payments", "payment_cents"));
  expect(f.get("refunds")).toEqual(tally("refunds", "refund_cents"));
  expect(f.get("club-transfers")).toEqual(tally("org_transfers", "org_transfer_cents"));
  if (club === null) expect(f.get("member-transfers")).toEqual(tally("transfers", "transfer_cents"));
  const end = await heldAt(to, club);
  if (club === null) {
    expect(f.get("held-members")?.cents).toBe(end.members);
    expect(f.get("held-clubs")?.cents).toBe(end.clubs);
  } else expect(f.get("held-club")?.cents).toBe(end.clubs);

  // Weekly buckets: one row per week, each summed and held computed on its own.
  const weeks = weeksOf(from, to);
  const flows = tableRows(html, "flows-table");
  const held = tableRows(html, "held-table");
  expect(flows.map((r) => r[0])).toEqual(weeks.map(([a]) => a));
  expect(held.map((r) => r[0])).toEqual(weeks.map(([a]) => a));
  for (let i = 0; i < weeks.length; i++) {
    const [a, b] = weeks[i]!;
    const w = await sumsBetween(a, b, club);
    expect([Number(flows[i]![1]), cents(flows[i]![2]!), Number(flows[i]![3]), cents(flows[i]![4]!)]).toEqual([
      Number(w.top_ups),
      BigInt(w.top_up_cents!),
      Number(w.payments),
      BigInt(w.payment_cents!),
    ]);
    const h = await heldAt(b, club);
    expect(held[i]!.slice(1).map(cents)).toEqual(club === null ? [h.members, h.clubs] : [h.clubs]);
  }

  const bins = tableRows(html, "balances-table").map((r) => (r[2] === "—" ? [r[1], r[2]] : [r[1], cents(r[2]!)]));
  const expected = await histogram(club);
  expect(bins).toEqual(expected);

  // The charts' JSON carries the same numbers as the tables.
  const data = JSON.parse(/<script type="application\/json" id="chart-data">([\s\S]*?)<\/script>/.exec(html)![1]!);
  expect(data.flows.labels).toEqual(weeks.map(([a]) => a));
  expect(data.flows.series[0].values.map((v: string) => BigInt(v.replace(".", "")))).toEqual(
    flows.map((r) => cents(r[2]!)),
  );
  expect(data.balances.series[0].values).toEqual(expected.map((b) => (b[1] === "—" ? null : b[0])));
  return f;
}

// --- the tests ------------------------------------------------------------------------------------------------

test(`federation figures, weekly buckets, money held and histogram equal independent SQL (seed ${SEED})`, async () => {
  expect(Number((await sumsBetween(day(-420), day(0), null)).payments)).toBeGreaterThan(20); // the ledger has substance
  await fc.assert(
    fc.asyncProperty(fc.integer({ min: 0, max: 420 }), fc.integer({ min: 0, max: 420 }), async (a, b) => {
      const [from, to] = [day(-Math.max(a, b)), day(-Math.min(a, b))];
      const res = await agents.finance.get(`/payments/statistics?from=${from}&to=${to}`);
      expect(res.status).toBe(200);
      await checkPage(res.text, from, to, null);
    }),
    { numRuns: 8, seed: SEED },
  );
  // Periods whose edges fall on the postings at 00:00:00.000 and 23:59:59.999, whatever the random runs hit.
  for (const [from, to] of edges) {
    const f = await checkPage(
      (await agents.finance.get(`/payments/statistics?from=${from}&to=${to}`)).text,
      from,
      to,
      null,
    );
    expect(f.get("top-ups")!.count).toBeGreaterThan(0);
  }
});

test("the presets are whole weeks back from the current one, ending today; today's service bookings count", async () => {
  const dow = (new Date(`${today()}T00:00:00Z`).getUTCDay() + 6) % 7;
  for (const [preset, n] of [
    ["4w", 4],
    ["13w", 13],
    ["52w", 52],
  ] as const) {
    const res = await agents.finance.get(`/payments/statistics?period=${preset}`);
    expect(res.status).toBe(200);
    const from = addDays(today(), -dow - 7 * (n - 1));
    const f = await checkPage(res.text, from, today(), null);
    if (preset === "4w") {
      const x = await sumsBetween(today(), today(), null);
      expect(Number(x.top_ups)).toBeGreaterThanOrEqual(2); // the two card top-ups of today
    }
    expect(f.get("ious-paid")).toEqual({ count: 1, cents: 2_222n });
  }
  // No period: the 13 weeks.
  const plain = await agents.finance.get("/payments/statistics");
  expect(plain.text).toContain(`From ${addDays(today(), -dow - 84)} to ${today()}`);
});

test(`a club officer's page shows the club's figures, equal to independent SQL (seed ${SEED})`, async () => {
  await fc.assert(
    fc.asyncProperty(fc.integer({ min: 0, max: 420 }), fc.integer({ min: 0, max: 420 }), async (a, b) => {
      const [from, to] = [day(-Math.max(a, b)), day(-Math.min(a, b))];
      const res = await agents.officerA.get(`/payments/org-statistics/${clubA.id}?from=${from}&to=${to}`);
      expect(res.status).toBe(200);
      expect(res.text).not.toContain('data-figure="webhooks-waiting"');
      await checkPage(res.text, from, to, clubA.id);
    }),
    { numRuns: 6, seed: SEED + 1 },
  );
  const res = await agents.officerA.get(`/payments/org-statistics/${clubA.id}?period=4w`);
  const f = figures(res.text);
  expect(f.get("ious-open")).toEqual({ count: 1, cents: 3_333n });
  expect(f.get("ious-paid")).toEqual({ count: 1, cents: 2_222n });
  const club = await s.p.db.account.findUniqueOrThrow({ where: { organisationId: clubA.id } });
  expect(cents(statusFigure(res.text, "unsettled"))).toBe(club.balanceCents);
});

test("the federation's status summary counts what is waiting, and Stripe's balance against members' credit", async () => {
  const res = await agents.finance.get("/payments/statistics?period=4w");
  expect(statusFigure(res.text, "webhooks-waiting")).toMatch(/^1 \(1 failed\)/);
  const pending = await s.p.pool.query("SELECT count(*)::int AS n FROM card_payments WHERE status = 'PENDING'");
  expect(pending.rows[0].n).toBe(1);
  expect(statusFigure(res.text, "cards-pending")).toMatch(
    new RegExp(`^1 · \\$${(Number(pendingCardCents) / 100).toFixed(2).replace(".", "\\.")} `),
  );
  expect(statusFigure(res.text, "failed-emails")).toMatch(/^1 being retried, 1 given up/);
  const { rows } = await s.p.pool.query(
    `SELECT (SELECT sum(balance_cents) FROM accounts WHERE kind = 'MEMBER')::text AS m,
            (SELECT sum(balance_cents) FROM accounts WHERE kind = 'ORGANISATION')::text AS o`,
  );
  expect(cents(statusFigure(res.text, "members-credit").split(" ")[0]!)).toBe(BigInt(rows[0].m));
  expect(cents(statusFigure(res.text, "unsettled").split(" ")[0]!)).toBe(BigInt(rows[0].o));
  const available = await s.p.gateway.availableBalanceCents();
  expect(cents(statusFigure(res.text, "stripe-available"))).toBe(available);
  expect(available).toBeGreaterThan(0n); // the card top-ups of today reached the emulator's balance
  const f = figures(res.text);
  expect(f.get("auto-top-ups")?.count).toBe(await s.p.db.user.count({ where: { autoTopUpStatus: "ON" } }));
  const cards = await s.p.pool.query(
    `SELECT count(*)::int AS n, sum(amount_cents)::text AS c FROM card_payments
      WHERE status IN ('SUCCEEDED', 'PARTIAL_REFUND', 'REFUNDED')`,
  );
  expect(f.get("card-payments")).toEqual({ count: 2, cents: BigInt(cards.rows[0].c) });
  expect(cards.rows[0].c).toBe("17345");
});

test("who may see which statistics page", async () => {
  const fed = "/payments/statistics";
  const a = `/payments/org-statistics/${clubA.id}`;
  const b = `/payments/org-statistics/${clubB.id}`;
  for (const path of [fed, a]) {
    const anon = await request(s.app).get(path).set("Accept", "text/html");
    expect(anon.status).toBe(302);
    expect(anon.headers.location).toBe(`/login?next=${encodeURIComponent(path)}`);
    expect((await agents.member.get(path)).status).toBe(403);
  }
  expect((await agents.finance.get(fed)).status).toBe(200);
  expect((await agents.finance.get(a)).status).toBe(200);
  expect((await agents.finance.get(b)).status).toBe(200);
  expect((await agents.officerA.get(a)).status).toBe(200);
  expect((await agents.viewerA.get(a)).status).toBe(200);
  expect((await agents.officerA.get(b)).status).toBe(403);
  expect((await agents.officerB.get(a)).status).toBe(403);
  expect((await agents.officerA.get(fed)).status).toBe(403);
  expect((await agents.officerB.get(`${b}?period=52w`)).status).toBe(200);
  // The navigation leads there: finance staff from the menu, officers from their club's page.
  expect((await agents.finance.get("/dashboard")).text).toContain('href="/payments/statistics"');
  expect((await agents.officerA.get(`/payments/statement-org/${clubA.id}`)).text).toContain(`href="${a}"`);
  expect((await agents.member.get("/dashboard")).text).not.toContain('href="/payments/statistics"');
});

test("a bad period is a 400 page with the message and the period form, and nothing else", async () => {
  const cases: [string, string][] = [
    ["period=9w", "Period must be one of: 4w, 13w, 52w."],
    ["from=2026-02-30", "From date is a date in the form YYYY-MM-DD."],
    ["to=yesterday", "To date is a date in the form YYYY-MM-DD."],
    [`from=${day(-3)}&to=${day(-10)}`, "The start date must not be after the end date."],
    [`from=${day(5)}`, "The start date is in the future: there is nothing to show yet."],
    ["from=2001-01-01&to=2020-01-01", "The period is too long: choose at most 1830 days (five years)."],
    ["from=2026-01-01&from=2026-01-02", "From date must be text."],
    ["period=4w&period=13w", "Period must be text."],
  ];
  for (const base of ["/payments/statistics", `/payments/org-statistics/${clubA.id}`]) {
    const agent = base.includes("org-") ? agents.officerA : agents.finance;
    for (const [q, message] of cases) {
      const res = await agent.get(`${base}?${q}`);
      expect([q, res.status]).toEqual([q, 400]);
      expect(text(/<div class="alert alert-danger"[^>]*>([\s\S]*?)<\/div>/.exec(res.text)?.[1] ?? "")).toBe(message);
      expect(res.text).toContain('id="period-form"');
      expect(res.text).not.toContain('id="figures"');
      expect(res.text).not.toContain("chart-data");
    }
  }
  const json = await agents.finance.get("/payments/statistics?period=9w").set("Accept", "application/json");
  expect(json.status).toBe(400);
  expect(json.body).toEqual({ error: "Period must be one of: 4w, 13w, 52w." });
});

test("Chart.js is served from node_modules, under the site's strict policy", async () => {
  const res = await agents.finance.get("/static/chartjs/chart.umd.min.js");
  expect(res.status).toBe(200);
  expect(res.headers["content-type"]).toMatch(/javascript/);
  expect(res.text).toContain("Chart");
  const page = await agents.finance.get("/payments/statistics");
  const csp = page.headers["content-security-policy"] as string;
  expect(csp).not.toMatch(/unsafe-inline|unsafe-eval/);
  expect(page.text).toContain('<script src="/static/chartjs/chart.umd.min.js"></script>');
  expect(page.text).toContain('<script src="/static/js/statistics-charts.js"></script>');
});
