// The club finance report (issue 19 item 1) over HTTP on real parts: a club's history of dated payments of several
// types, a session charged on the club's page, an API charge with a reference; the report's totals against sums
// computed independently from the ledger for random date ranges (fast-check); the CSV (csv-parse) and the workbook
// (exceljs) read back and compared with the screen, line by line; the search; who may see it; bad filters.
import { parse } from "csv-parse/sync";
import ExcelJS from "exceljs";
import fc from "fast-check";
import request from "supertest";
import type TestAgent from "supertest/lib/agent";
import { createApiKey } from "../../src/services/api/keys";
import { cliActor } from "../../src/services/audit/record";
import type { TransactionType } from "../../src/services/ledger/transaction-types";
import { makeClub, makeUser, signIn } from "../helpers/app";
import { type CardStack, startCardStack } from "../helpers/card-stack";
import { binary } from "../helpers/downloads";
import { key, violations } from "../helpers/payments";
import { renderedForm } from "../helpers/rendered-form";

let s: CardStack;
let club: { id: number; clubNumber: string; name: string };
let members: { id: number; systemNumber: number; firstName: string; lastName: string; email: string }[];
const agents = {} as Record<"officer" | "viewer" | "officerB" | "member" | "finance", TestAgent>;
const TZ = "Australia/Sydney";
const day = (offset: number) =>
  new Intl.DateTimeFormat("en-CA", { timeZone: TZ }).format(new Date(Date.now() + offset * 86_400_000));

/** A dated posting between a member and the club (positive: the member pays the club). */
async function between(
  memberId: number,
  cents: bigint,
  type: TransactionType,
  description: string,
  at: string,
  extra: { eventId?: number; clubSessionId?: number } = {},
) {
  const m = await s.p.accounts.forUser(memberId);
  const c = await s.p.accounts.forOrganisation(club.id);
  const r = await s.p.ledger.post({
    idempotencyKey: key("report"),
    type,
    description,
    at: new Date(at),
    ...extra,
    entries: [
      { accountId: m, amountCents: -cents, counterparty: 1 },
      { accountId: c, amountCents: cents, counterparty: 0 },
    ],
  });
  if (r.status !== "POSTED") throw new Error(`not booked: ${r.status}`);
}

beforeAll(async () => {
  s = await startCardStack({ maxConnections: 20 });
  club = await makeClub(s.p.db, "Report Club");
  const other = await makeClub(s.p.db, "Other Club");
  members = [
    await makeUser(s.p.db, { firstName: "Łukasz" }),
    await makeUser(s.p.db, { firstName: "O'Brien" }),
    await makeUser(s.p.db, { firstName: "Mei" }),
  ];
  const people = {
    officer: await makeUser(s.p.db, { level: "EDIT", orgId: club.id }),
    viewer: await makeUser(s.p.db, { level: "VIEW", orgId: club.id }),
    officerB: await makeUser(s.p.db, { level: "EDIT", orgId: other.id }),
    member: members[2]!,
    finance: await makeUser(s.p.db, { level: "VIEW" }),
  };
  for (const [k, u] of Object.entries(people)) agents[k as keyof typeof agents] = (await signIn(s.app, u.email)).agent;

  // Opening balances 70 days ago, then 60 dated lines a day apart (more than a page), of four types, some naming an event or a
  // club session, descriptions with commas, quotes, a percent sign and a formula.
  const adj = await s.p.accounts.forSystem("ADJUSTMENTS");
  for (const m of members) {
    const acct = await s.p.accounts.forUser(m.id);
    await s.p.ledger.post({
      idempotencyKey: key("open"),
      type: "Manual Adjustment",
      description: "Opening",
      at: new Date(`${day(-70)}T01:00:00Z`),
      entries: [
        { accountId: acct, amountCents: 100_000n, counterparty: 1 },
        { accountId: adj, amountCents: -100_000n, counterparty: 0 },
      ],
    });
  }
  const TYPES: TransactionType[] = ["Club Payment", "Club Membership", "Entry to an event", "Miscellaneous"];
  for (let i = 0; i < 60; i++) {
    const type = TYPES[i % 4]!;
    const description =
      i === 5 ? "=SUM(A1:A9)" : i === 6 ? '50% off, "early" entry' : `Line ${i}, ${type.toLowerCase()}`;
    await between(members[i % 3]!.id, BigInt(500 + i * 37), type, description, `${day(-60 + i)}T03:00:00Z`, {
      ...(type === "Entry to an event" ? { eventId: 4200 + (Math.floor(i / 4) % 2) } : {}),
      ...(type === "Miscellaneous" ? { clubSessionId: 77 } : {}),
    });
  }
  await between(members[0]!.id, -1_250n, "Org Transfer", "Prize money", `${day(-10)}T04:00:00Z`);

  // Today: a session charged on the club's page (as rendered), and a charge through the API with a reference.
  const entry = await agents.officer.get(`/payments/club-session/${club.id}`);
  const preview = await agents.officer
    .post(`/payments/club-session/${club.id}/preview`)
    .type("form")
    .send({
      ...renderedForm(entry.text, `/payments/club-session/${club.id}/preview`),
      rows: `${members[0]!.systemNumber},15.00\n${members[1]!.systemNumber},12.50`,
      description: "Tuesday pairs",
      reference: "S-42",
    });
  expect(preview.status).toBe(200);
  const confirmed = await agents.officer
    .post(`/payments/club-session/${club.id}/confirm`)
    .type("form")
    .send(renderedForm(preview.text, `/payments/club-session/${club.id}/confirm`));
  expect(confirmed.status).toBe(302);
  const { secret } = await createApiKey(
    s.p.db,
    { name: "scoring", organisationId: club.id, scopes: ["charges:write"], expiresAt: null, live: false },
    cliActor(),
  );
  const charge = await request(s.app)
    .post("/api/v1/charges")
    .set("Authorization", `Bearer ${secret}`)
    .set("Idempotency-Key", key("api"))
    .send({
      member: members[2]!.systemNumber,
      amount: 900,
      currency: "aud",
      description: "Teams event",
      when_insufficient: "fail",
      reference: "table-7-ns",
    });
  expect(charge.status).toBe(201);
});
afterAll(async () => {
  expect(await violations(s.p)).toEqual([]);
  await s.p.ledger.close();
  await s.close();
});

const report = (q = "") => `/payments/org-report/${club.id}${q ? `?${q}` : ""}`;

const text = (html: string) =>
  html
    .replace(/<[^>]+>/g, "")
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&amp;/g, "&")
    .trim();
/** "$1,234.56" / "-$5.00" → "1234.56" / "-5.00" (the CSV's spelling). */
const plain = (money: string) => money.replace("$", "").replace(/,/g, "");
const cents = (money: string) => BigInt(plain(money).replace(".", ""));

function tableRows(html: string, id: string, part: "tbody" | "tfoot" = "tbody") {
  const table = new RegExp(`<table[^>]*id="${id}">[\\s\\S]*?</table>`).exec(html)?.[0] ?? "";
  const body = new RegExp(`<${part}>([\\s\\S]*?)</${part}>`).exec(table)?.[1] ?? "";
  return [...body.matchAll(/<tr[^>]*>([\s\S]*?)<\/tr>/g)].map((r) =>
    [...r[1]!.matchAll(/<t[dh][^>]*>([\s\S]*?)<\/t[dh]>/g)].map((c) => text(c[1]!)),
  );
}

/** Every line of the report on screen, page after page, in the CSV's spelling. */
async function screenLines(q: string) {
  const out: string[][] = [];
  for (let page = 1; ; page++) {
    const res = await agents.finance.get(report(`${q}&page=${page}`));
    expect(res.status).toBe(200);
    out.push(...tableRows(res.text, "report-lines").map((r) => r.map((c, i) => (i >= 8 ? plain(c) : c))));
    if (!res.text.includes(`${page} of `) || res.text.includes(`${page} of ${page}<`)) return { out, html: res.text };
  }
}

/** Totals by type on screen: type → [lines, in, out, net] in cents. */
function screenTotals(html: string) {
  return new Map(
    tableRows(html, "report-totals").map(([type, lines, i, o, n]) => [
      type!,
      [Number(lines), cents(i!), cents(o!), cents(n!)] as [number, bigint, bigint, bigint],
    ]),
  );
}

test("totals by type equal sums computed from the ledger, for random date ranges", async () => {
  await fc.assert(
    fc.asyncProperty(fc.integer({ min: 0, max: 72 }), fc.integer({ min: 0, max: 72 }), async (a, b) => {
      const [from, to] = [day(-Math.max(a, b)), day(-Math.min(a, b))];
      const res = await agents.finance.get(report(`from=${from}&to=${to}`));
      expect(res.status).toBe(200);
      // Independently: each club entry's local calendar day within the range, summed per type.
      const { rows } = await s.p.pool.query<{ type: string; n: number; i: string; o: string; net: string }>(
        `SELECT e.type, count(*)::int AS n,
                coalesce(sum(e.amount_cents) FILTER (WHERE e.amount_cents > 0), 0)::text AS i,
                coalesce(sum(-e.amount_cents) FILTER (WHERE e.amount_cents < 0), 0)::text AS o,
                sum(e.amount_cents)::text AS net
           FROM entries e JOIN accounts a ON a.id = e.account_id
          WHERE a.organisation_id = $1 AND (e.created_at AT TIME ZONE $4)::date BETWEEN $2::date AND $3::date
          GROUP BY e.type`,
        [club.id, from, to, TZ],
      );
      const expected = new Map(rows.map((r) => [r.type, [r.n, BigInt(r.i), BigInt(r.o), BigInt(r.net)]]));
      expect(screenTotals(res.text)).toEqual(expected);
      const foot = tableRows(res.text, "report-totals", "tfoot")[0]!;
      expect(cents(foot[4]!)).toBe(rows.reduce((t, r) => t + BigInt(r.net), 0n));
      expect(Number(foot[1])).toBe(rows.reduce((t, r) => t + r.n, 0));
    }),
    { numRuns: 6 },
  );
});

test("the CSV and the workbook hold exactly the lines and totals of the screen", async () => {
  const q = `from=${day(-62)}&to=${day(0)}`;
  const { out: screen, html } = await screenLines(q);
  expect(screen.length).toBeGreaterThan(REPORT_PAGE_FLOOR);

  const csv = await agents.finance.get(report(`${q}&format=csv`));
  expect(csv.status).toBe(200);
  expect(csv.headers["content-disposition"]).toBe(
    `attachment; filename="club-report-${club.clubNumber.toLowerCase()}-${day(-62)}-to-${day(0)}.csv"`,
  );
  const audited = await s.p.pool.query<{ after: { file: string } }>(
    "SELECT after FROM audit_events WHERE action = 'export.download' AND organisation_id = $1 ORDER BY id",
    [club.id],
  );
  expect(audited.rows.at(-1)!.after.file).toMatch(/^club-report-.*\.csv$/);
  const rows = parse(csv.text) as string[][];
  expect(rows[0]).toEqual([
    "Date",
    "Type",
    "Member",
    "ABF Number",
    "Other party",
    "Description",
    "Reference",
    "Session / event",
    "Amount",
    "Balance",
  ]);
  // The CSV neutralises the formula cell; everything else is as on screen.
  expect(rows.slice(1).some((r) => r[5] === "'=SUM(A1:A9)")).toBe(true);
  expect(rows.slice(1).map((r) => r.map((c) => c.replace(/^'(?=[=+\-@])/, "")))).toEqual(screen);

  const xlsx = await agents.finance
    .get(report(`${q}&format=xlsx`))
    .buffer(true)
    .parse(binary);
  expect(xlsx.status).toBe(200);
  const book = new ExcelJS.Workbook();
  await book.xlsx.load(Uint8Array.from(xlsx.body as Buffer).buffer);
  expect(book.worksheets.map((w) => w.name)).toEqual([
    "Transactions",
    "By type",
    "By member",
    "By session or event",
    "Top-ups and settlements",
    "Summary",
  ]);
  const values = (name: string) => {
    const out: string[][] = [];
    book.getWorksheet(name)!.eachRow((row) => {
      out.push((row.values as unknown[]).slice(1).map((v) => (v === null || v === undefined ? "" : String(v))));
    });
    return out;
  };
  const money = (v: string) => (v === "" ? v : Number(v).toFixed(2));
  const all = values("Transactions");
  expect(all[0]).toEqual(rows[0]);
  expect(all.slice(1).map((r) => r.map((c, i) => (i >= 8 ? money(c) : c)))).toEqual(screen);

  const totals = screenTotals(html);
  const byType = values("By type").slice(1);
  expect(byType.at(-1)![0]).toBe("Total");
  expect(
    new Map(
      byType
        .slice(0, -1)
        .map(([t, n, i, o, net]) => [t, [Number(n), cents(money(i!)), cents(money(o!)), cents(money(net!))]]),
    ),
  ).toEqual(totals);

  // By member: every row names the member and their ABF number; the members' nets add up to the lines'.
  const byMember = values("By member").slice(1);
  for (const m of members) {
    const row = byMember.find((r) => r[1] === String(m.systemNumber))!;
    expect(row[0]).toBe(`${m.firstName} ${m.lastName}`);
    const net = screen.filter((l) => l[3] === String(m.systemNumber)).reduce((t, l) => t + cents(l[8]!), 0n);
    expect(cents(money(row[5]!))).toBe(net);
  }

  // By session or event: the page's session, the API reference, events and the club session, each line with its
  // member's name and ABF number.
  const bySession = values("By session or event").slice(1);
  const labels = new Set(bySession.map((r) => r[0]).filter((l) => !/line\(s\)$/.test(l!)));
  expect([...labels].sort()).toEqual(
    expect.arrayContaining(["Club session 77", "Event 4200", "Event 4201", "Reference table-7-ns"]),
  );
  expect([...labels].some((l) => /^Session \d+: Tuesday pairs \(S-42\)$/.test(l!))).toBe(true);
  for (const r of bySession.filter((x) => !/line\(s\)$/.test(x[0]!))) {
    expect(r[2]).not.toBe("");
    expect(r[3]).toMatch(/^\d+$/);
  }
  const summary = new Map(values("Summary").map(([k, v]) => [k, v]));
  expect(summary.get("Club")).toBe(club.name);
  expect(Number(summary.get("Lines"))).toBe(screen.length);
  expect(cents(money(summary.get("Net")!))).toBe(screen.reduce((t, l) => t + cents(l[8]!), 0n));
});
const REPORT_PAGE_FLOOR = 50; // more than one page on screen

test("search: member name, ABF number, description and reference; type filter; % as itself", async () => {
  const lines = async (q: string) => (await screenLines(q)).out;
  const lukasz = await lines(`search=${encodeURIComponent("ŁUKASZ")}`);
  expect(lukasz.length).toBeGreaterThan(5);
  for (const l of lukasz) expect(l[2]).toMatch(/^Łukasz /);
  const byAbf = await lines(`search=${members[1]!.systemNumber}`);
  expect(byAbf.length).toBeGreaterThan(5);
  for (const l of byAbf) expect(l[3]).toBe(String(members[1]!.systemNumber));
  expect((await lines("search=table-7")).map((l) => l[7])).toEqual(["Reference table-7-ns"]);
  expect((await lines("search=S-42")).length).toBe(2);
  expect((await lines("search=%25")).map((l) => l[5])).toEqual(['50% off, "early" entry']);
  const ref = lukasz[0]![6]!;
  expect((await lines(`search=${encodeURIComponent(ref)}`)).map((l) => l[6])).toEqual([ref]);
  const events = await lines(`type=${encodeURIComponent("Entry to an event")}`);
  expect(events.length).toBe(15); // i = 2, 6, …, 58
  for (const l of events) expect(l[1]).toBe("Entry to an event");
  // The downloads follow the search too.
  const csv = parse((await agents.finance.get(report("search=table-7&format=csv"))).text) as string[][];
  expect(csv.length).toBe(2);
});

test("who may see the report, its CSV and its workbook", async () => {
  for (const q of ["", "format=csv", "format=xlsx"]) {
    expect((await request(s.app).get(report(q))).status).toBe(302);
    for (const [who, status] of [
      ["officer", 200],
      ["viewer", 200],
      ["finance", 200],
      ["officerB", 403],
      ["member", 403],
    ] as const) {
      const res = await agents[who].get(report(q));
      expect({ who, q, status: res.status }).toEqual({ who, q, status });
    }
  }
});

test("bad filters: a message, never an error page", async () => {
  for (const [q, message] of [
    [`from=${day(0)}&to=${day(-5)}`, "The start date must not be after the end date."],
    ["type=Bribes", "Type must be one of"],
    ["from=2026-02-30", "From date is a date in the form YYYY-MM-DD."],
    ["page=-1", "Page must be a whole number"],
    ["format=pdf", "Format must be one of: csv, xlsx."],
    [`search=${"x".repeat(101)}`, "Search must be at most 100 characters."],
  ]) {
    const res = await agents.officer.get(report(q!));
    expect({ q, status: res.status }).toEqual({ q, status: 400 });
    expect(res.text).toContain(message);
  }
  expect((await agents.officer.get("/payments/org-report/abc")).status).toBe(404);
});
