// Every download starts with its header row (parsed back strictly: every row as wide as the header, so no title
// line above it) and is named for what it is, whose, and which period or moment:
// statement-620001-2026-11-01-to-2026-11-30.csv. Forms are sent as the pages render them.

import { parse } from "csv-parse/sync";
import ExcelJS from "exceljs";
import type { Response } from "supertest";
import type TestAgent from "supertest/lib/agent";
import { makeClub, makeUser, signIn } from "../helpers/app";
import { type CardStack, startCardStack } from "../helpers/card-stack";
import { binary, todayIn } from "../helpers/downloads";
import { fundMember, fundOrganisation } from "../helpers/payments";
import { renderedForm } from "../helpers/rendered-form";

let s: CardStack;
let member: { id: number; email: string; systemNumber: number };
let club: { id: number; clubNumber: string };
let m: TestAgent;
let f: TestAgent;
let o: TestAgent;

beforeAll(async () => {
  s = await startCardStack();
  const finance = await makeUser(s.p.db, { level: "VIEW" });
  member = await makeUser(s.p.db);
  club = await makeClub(s.p.db, "Download Club");
  const officer = await makeUser(s.p.db, { level: "VIEW", orgId: club.id });
  await fundMember(s.p, member.id, 12_345n, finance.id);
  await fundOrganisation(s.p, club.id, 50_000n, finance.id);
  m = (await signIn(s.app, member.email)).agent;
  f = (await signIn(s.app, finance.email)).agent;
  o = (await signIn(s.app, officer.email)).agent;
});
afterAll(() => s.close());

const today = () => todayIn(s.p.timeZone);
/** The moment of a download, as its name carries it ("2026-11-30-0824"). */
const STAMP = "\\d{4}-\\d{2}-\\d{2}-\\d{4}";
const slug = (v: string) => v.toLowerCase().replace(/[^a-z0-9.]+/g, "-");

function expectDownload(res: Response, name: RegExp | string) {
  expect(res.status).toBe(200);
  const m = /^attachment; filename="([^"]+)"$/.exec(String(res.headers["content-disposition"]));
  expect(m).not.toBeNull();
  if (typeof name === "string") expect(m![1]).toBe(name);
  else expect(m![1]).toMatch(name);
}
/** The CSV parsed strictly (a title line narrower than the header would throw); its first row. */
const firstRow = (res: Response) => (parse(res.text) as string[][])[0];

test("the member's statement: header first, named for the member and the period", async () => {
  const period = await m.get("/payments/statement-csv?from=2026-11-01&to=2026-11-30").buffer(true);
  expectDownload(period, `statement-${member.systemNumber}-2026-11-01-to-2026-11-30.csv`);
  expect(firstRow(period)).toEqual(["Date", "Counterparty", "Reference", "Type", "Description", "Amount", "Balance"]);

  const all = await m.get("/payments/statement-csv").buffer(true);
  expectDownload(all, new RegExp(`^statement-${member.systemNumber}-to-${STAMP}\\.csv$`));
  const rows = parse(all.text) as string[][];
  expect(rows[0]![0]).toBe("Date");
  expect(rows[1]![4]).toBe("Opening balance");

  const typed = await m.get("/payments/statement-csv?type=Manual+Adjustment&from=2026-01-01").buffer(true);
  expectDownload(
    typed,
    new RegExp(`^statement-${member.systemNumber}-manual-adjustment-2026-01-01-to-${STAMP}\\.csv$`),
  );

  const pdf = await m.get("/payments/statement-pdf?from=2026-11-01&to=2026-11-30").buffer(true).parse(binary);
  expectDownload(pdf, `statement-${member.systemNumber}-2026-11-01-to-2026-11-30.pdf`);
  expect((pdf.body as Buffer).subarray(0, 5).toString()).toBe("%PDF-");

  const admin = await f.get(`/payments/statement-csv/${member.id}?from=2026-11-01&to=2026-11-30`).buffer(true);
  expectDownload(admin, `statement-${member.systemNumber}-2026-11-01-to-2026-11-30.csv`);
  expect(firstRow(admin)![0]).toBe("Date");
});

test("the club's statement: header first, named for the club", async () => {
  const res = await o.get(`/payments/statement-csv-org/${club.id}`).buffer(true);
  expectDownload(res, new RegExp(`^statement-club-${slug(club.clubNumber)}-to-${STAMP}\\.csv$`));
  const rows = parse(res.text) as string[][];
  expect(rows[0]).toEqual(["Date", "Counterparty", "Reference", "Type", "Description", "Amount", "Balance"]);
  expect(rows[1]![5]).toBe("500.00");
});

test("finance lists and reports: header first, named for what and when", async () => {
  const members = await f.get("/payments/admin-members-with-balance-csv").buffer(true);
  expectDownload(members, new RegExp(`^member-balances-at-${STAMP}\\.csv$`));
  expect(firstRow(members)).toEqual(["Member Number", "Member First Name", "Member Last Name", "Balance"]);
  const orgs = await f.get("/payments/admin-orgs-with-balance-csv").buffer(true);
  expectDownload(orgs, new RegExp(`^organisation-balances-at-${STAMP}\\.csv$`));
  expect(firstRow(orgs)).toEqual(["Club Number", "Club Name", "Balance"]);

  const recPage = (await f.get(`/payments/admin-stripe-rec?ref_date=${today()}`)).text;
  const send = (action: string) => f.post(action).type("form").send(renderedForm(recPage, action)).buffer(true);
  const rec = await send("/payments/admin-stripe-rec-download");
  expectDownload(rec, new RegExp(`^reconciliation-\\d{4}-\\d{2}-\\d{2}-to-${today()}\\.csv$`));
  expect(firstRow(rec)![0]).toBe("Date");
  const recMembers = await send("/payments/admin-stripe-rec-download-member");
  expectDownload(recMembers, `member-balances-${today()}.csv`);
  expect(firstRow(recMembers)![0]).toBe("ABF Number");
  const recOrgs = await send("/payments/admin-stripe-rec-download-org");
  expectDownload(recOrgs, `organisation-balances-${today()}.csv`);
  expect(firstRow(recOrgs)![0]).toBe("Organisation");

  const movement = `/payments/organisation-movement-report?from=2026-11-01&to=${today()}`;
  const csv = await f.get(`${movement}&format=csv`).buffer(true);
  expectDownload(csv, `organisation-movement-2026-11-01-to-${today()}.csv`);
  expect(firstRow(csv)!.slice(0, 3)).toEqual(["Club No.", "Organisation", "Opening Balance"]);
  const xlsx = await f.get(`${movement}&format=xlsx`).buffer(true).parse(binary);
  expectDownload(xlsx, `organisation-movement-2026-11-01-to-${today()}.xlsx`);
  const book = new ExcelJS.Workbook();
  await book.xlsx.load(Uint8Array.from(xlsx.body as Buffer).buffer);
  expect(book.getWorksheet("Movements")!.getRow(1).getCell(1).value).toBe("Club No.");

  const adjustments = await f
    .get(`/payments/admin-view-specific-transactions/manual_adjust?format=csv&from=2026-01-01&to=${today()}`)
    .buffer(true);
  expectDownload(adjustments, `manual-adjustment-report-2026-01-01-to-${today()}.csv`);
  const lines = parse(adjustments.text) as string[][];
  expect(lines[0]![0]).toBe("Date");
  // Member and club lines in the one table, each under its own columns.
  expect(lines.find((l) => l[3] === String(member.systemNumber))![8]).toBe("123.45");
  expect(lines.find((l) => l[5] === club.clubNumber)![8]).toBe("500.00");

  const cards = await f.get("/payments/admin-view-stripe-transactions?format=csv").buffer(true);
  expectDownload(cards, new RegExp(`^card-payments-to-${STAMP}\\.csv$`));
  expect(firstRow(cards)!.slice(0, 3)).toEqual(["Date", "Status", "Member"]);
});
