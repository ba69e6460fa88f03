// The club statement's filters (issue 19 item 2) on the page, its CSV and its PDF: the same lines in all three for
// a date range and a type, the PDF's text extracted (pdftotext) with the club's name and number and the period;
// bad filters a message; who may download.
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { parse } from "csv-parse/sync";
import request from "supertest";
import type TestAgent from "supertest/lib/agent";
import { makeUser, signIn } from "../helpers/app";
import { type CardStack, startCardStack } from "../helpers/card-stack";
import { binary } from "../helpers/downloads";
import { key } from "../helpers/payments";
import { clubWithHistory } from "../helpers/settlement";

let s: CardStack;
let club: { id: number; clubNumber: string; name: string };
let officer: TestAgent;
let officerB: TestAgent;
let member: TestAgent;
const day = (offset: number) =>
  new Intl.DateTimeFormat("en-CA", { timeZone: "Australia/Sydney" }).format(new Date(Date.now() + offset * 86_400_000));

beforeAll(async () => {
  s = await startCardStack();
  // Twelve dated lines: credits as manual adjustments, and a club membership paid by a member every third day.
  club = await clubWithHistory(s.p, [], { name: "Zoë's Łódź Club" });
  const payer = await makeUser(s.p.db, { firstName: "Payer" });
  const payerAcct = await s.p.accounts.forUser(payer.id);
  const clubAcct = await s.p.accounts.forOrganisation(club.id);
  const adj = await s.p.accounts.forSystem("ADJUSTMENTS");
  await s.p.ledger.post({
    idempotencyKey: key("payer"),
    type: "Manual Adjustment",
    description: "Opening",
    at: new Date(`${day(-30)}T03:00:00Z`),
    entries: [
      { accountId: payerAcct, amountCents: 10_000n, counterparty: 1 },
      { accountId: adj, amountCents: -10_000n, counterparty: 0 },
    ],
  });
  for (let i = 0; i < 12; i++) {
    const membership = i % 3 === 0;
    const cents = BigInt(1_000 + i);
    const r = await s.p.ledger.post({
      idempotencyKey: key("club-statement"),
      type: membership ? "Club Membership" : "Manual Adjustment",
      description: `${membership ? "Membership" : "Adjustment"} day ${i}`,
      at: new Date(`${day(-24 + 2 * i)}T03:00:00Z`),
      entries: [
        { accountId: membership ? payerAcct : adj, amountCents: -cents, counterparty: 1 },
        { accountId: clubAcct, amountCents: cents, counterparty: 0 },
      ],
    });
    if (r.status !== "POSTED") throw new Error(r.status);
  }
  officer = (await signIn(s.app, (await makeUser(s.p.db, { level: "VIEW", orgId: club.id })).email)).agent;
  const other = await clubWithHistory(s.p, [], { name: "Other" });
  officerB = (await signIn(s.app, (await makeUser(s.p.db, { level: "EDIT", orgId: other.id })).email)).agent;
  member = (await signIn(s.app, payer.email)).agent;
});
afterAll(() => s.close());

const descriptions = (html: string) => {
  const table = /<table[^>]*id="statement">[\s\S]*?<\/table>/.exec(html)?.[0] ?? "";
  return [...table.matchAll(/<td>((?:Membership|Adjustment) day \d+)/g)].map((m) => m[1]);
};
async function pdfText(agent: TestAgent, url: string) {
  const res = await agent.get(url).buffer(true).parse(binary);
  expect(res.status).toBe(200);
  expect(res.headers["content-type"]).toBe("application/pdf");
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "club-pdf-"));
  fs.writeFileSync(path.join(dir, "c.pdf"), res.body as Buffer);
  return { res, text: execFileSync("pdftotext", ["-layout", path.join(dir, "c.pdf"), "-"], { encoding: "utf8" }) };
}

test("a date range and a type keep the same lines on the page, in the CSV and in the PDF", async () => {
  // Days −18 … −6 hold lines 3 … 9; of those, memberships are 3, 6 and 9.
  const q = `from=${day(-18)}&to=${day(-6)}&type=Club+Membership`;
  const page = await officer.get(`/payments/statement-org/${club.id}?${q}`);
  expect(page.status).toBe(200);
  expect(descriptions(page.text)).toEqual(["Membership day 9", "Membership day 6", "Membership day 3"]);
  // The downloads carry the filters.
  expect(page.text).toContain(`href="/payments/statement-csv-org/${club.id}?${q.replace(/&/g, "&amp;")}"`);
  expect(page.text).toContain(`href="/payments/statement-pdf-org/${club.id}?${q.replace(/&/g, "&amp;")}"`);

  const csv = await officer.get(`/payments/statement-csv-org/${club.id}?${q}`);
  expect(csv.status).toBe(200);
  expect(csv.headers["content-disposition"]).toBe(
    `attachment; filename="statement-club-${club.clubNumber.toLowerCase()}-club-membership-${day(-18)}-to-${day(-6)}.csv"`,
  );
  const rows = parse(csv.text) as string[][];
  expect(rows[0]).toEqual(["Date", "Counterparty", "Reference", "Type", "Description", "Amount", "Balance"]);
  expect(rows.slice(1).map((r) => [r[3], r[4], r[5]])).toEqual([
    ["Club Membership", "Membership day 9", "10.09"],
    ["Club Membership", "Membership day 6", "10.06"],
    ["Club Membership", "Membership day 3", "10.03"],
  ]);

  const { res, text } = await pdfText(officer, `/payments/statement-pdf-org/${club.id}?${q}`);
  expect(res.headers["content-disposition"]).toContain(
    `statement-club-${club.clubNumber.toLowerCase()}-club-membership-${day(-18)}-to-${day(-6)}.pdf`,
  );
  expect(text).toContain(club.name);
  expect(text).toContain(`Club number ${club.clubNumber}`);
  expect(text).toContain(`Period: ${day(-18)} to ${day(-6)}`);
  for (const d of [3, 6, 9]) expect(text).toContain(`Membership day ${d}`);
  for (const d of [0, 4, 5, 7, 8, 10, 11]) {
    expect(text).not.toContain(`Membership day ${d}\n`);
    expect(text).not.toContain(`Adjustment day ${d}`);
  }
});

test("a date range alone: every type in it, opening and closing balances on the page and in the PDF", async () => {
  const q = `from=${day(-4)}&to=${day(0)}`;
  const page = await officer.get(`/payments/statement-org/${club.id}?${q}`);
  expect(descriptions(page.text)).toEqual(["Adjustment day 11", "Adjustment day 10"]);
  expect(page.text).toContain("Opening Balance");
  const { text } = await pdfText(officer, `/payments/statement-pdf-org/${club.id}?${q}`);
  expect(text).toContain("Adjustment day 10");
  expect(text).not.toContain("day 9");
  const total = Array.from({ length: 12 }, (_, i) => 1_000 + i).reduce((a, b) => a + b, 0);
  expect(text).toContain(`Closing balance: $${(total / 100).toFixed(2)}`);
  expect(text).toContain(`Opening balance: $${((total - 1_010 - 1_011) / 100).toFixed(2)}`);
});

test("bad filters show a message, never an error page; the downloads refuse them", async () => {
  const bad = await officer.get(`/payments/statement-org/${club.id}?from=${day(0)}&to=${day(-3)}`);
  expect(bad.status).toBe(400);
  expect(bad.text).toContain("The start date must not be after the end date.");
  expect(descriptions(bad.text)).toHaveLength(12); // the whole statement, unfiltered
  for (const url of ["statement-csv-org", "statement-pdf-org"]) {
    const res = await officer.get(`/payments/${url}/${club.id}?type=Bribes`);
    expect(res.status).toBe(400);
    expect(res.text).toContain("Type must be one of");
  }
});

test("the club PDF: the club's officers and finance only", async () => {
  const url = `/payments/statement-pdf-org/${club.id}`;
  expect((await request(s.app).get(url)).status).toBe(302);
  expect((await officerB.get(url)).status).toBe(403);
  expect((await member.get(url)).status).toBe(403);
  const finance = (await signIn(s.app, (await makeUser(s.p.db, { level: "VIEW" })).email)).agent;
  expect((await finance.get(url)).status).toBe(200);
});
