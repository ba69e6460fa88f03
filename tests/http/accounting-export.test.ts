// The accounting export: the journal of random periods balances per day and its totals equal the ledger's own
// movements, summed here by an independent SQL query; the files parsed back; a period exported twice only when
// asked; a ledger account added later (as payouts or disputes will add) maps through the page with no code
// change; and who may use it. Forms are posted as rendered (hidden fields from the HTML; the file chosen in the
// select, as a person would).
//
// Column sources:
// - Xero Manual Journal import template: https://help.xero.com/nz/ManualJournalsImport ("Narration, Date,
//   Description, AccountCode, TaxRate, Amount, TrackingName1 and TrackingOption1, TrackingName2 and
//   TrackingOption2"; the template marks the mandatory ones with "*"; positive amounts are debits).
// - Xero invoice / bill import template: https://online.flippingbook.com/view/399081/31/ (sblive Xero guide, the
//   sales invoice template's columns) and https://skipentry.com/blog/xero-invoice-import-guide (the bill import's
//   column set, same names in the same order).
import { parse } from "csv-parse/sync";
import fc from "fast-check";
import request from "supertest";
import type TestAgent from "supertest/lib/agent";
import { journal } from "../../src/services/accounting/journal";
import { mappings } from "../../src/services/accounting/mappings";
import type { EntryInput } from "../../src/services/ledger/posting";
import type { TransactionType } from "../../src/services/ledger/transaction-types";
import { markPaid, markSubmitted, recordDownload } from "../../src/services/settlement/batch-lifecycle";
import { confirmSettlement } from "../../src/services/settlement/settlement";
import { makeClub, makeUser, signIn } from "../helpers/app";
import { type CardStack, startCardStack } from "../helpers/card-stack";
import { renderedForm } from "../helpers/forms";
import { key, violations } from "../helpers/payments";
import { setDirectEntry } from "../helpers/settlement";

const TZ = "Australia/Sydney";
let s: CardStack;
let editor: TestAgent;
let viewer: TestAgent;
let financeId: number;
const today = () => new Intl.DateTimeFormat("en-CA", { timeZone: TZ }).format(new Date());
const body = (res: { text?: string; body: unknown }) => (typeof res.body === "string" ? res.body : (res.text ?? ""));
const cents = (v: string) => BigInt(v.replace(".", "").replace(/^(-?)0+(?=\d)/, "$1"));

async function book(at: string, type: TransactionType, entries: EntryInput[]) {
  const r = await s.p.ledger.post({
    idempotencyKey: key("acct"),
    type,
    description: "Export test",
    at: new Date(at),
    entries,
  });
  if (r.status !== "POSTED") throw new Error(`not booked: ${r.status}`);
}

beforeAll(async () => {
  s = await startCardStack();
  const finance = await makeUser(s.p.db, { level: "EDIT" });
  financeId = finance.id;
  editor = (await signIn(s.app, finance.email)).agent;
  viewer = (await signIn(s.app, (await makeUser(s.p.db, { level: "VIEW" })).email)).agent;
  await setDirectEntry(s.p.db);

  // Sept–Oct 2026: members funded, paying clubs, some minutes either side of Sydney's midnight (day boundaries).
  const members = [await makeUser(s.p.db), await makeUser(s.p.db), await makeUser(s.p.db)];
  const clubs = [await makeClub(s.p.db, "Journal"), await makeClub(s.p.db, "Ledger")];
  for (const m of members) {
    await book("2026-09-01T10:00:00+10:00", "Manual Adjustment", [
      { userId: m.id, amountCents: 500_000n, counterparty: 1 },
      { system: "ADJUSTMENTS", amountCents: -500_000n, counterparty: 0 },
    ]);
  }
  for (let i = 0; i < 60; i++) {
    const day = new Date(Date.UTC(2026, 8, 2 + ((i * 7) % 58)));
    const d = day.toISOString().slice(0, 10);
    const time = ["00:05:00", "12:00:00", "23:55:00"][i % 3];
    const offset = day >= new Date("2026-10-04T00:00:00Z") ? "+11:00" : "+10:00";
    const amount = BigInt(100 + ((i * 3_731) % 9_000));
    await book(`${d}T${time}${offset}`, i % 5 === 0 ? "Club Membership" : "Club Payment", [
      { userId: members[i % 3]!.id, amountCents: -amount, counterparty: 1 },
      { organisationId: clubs[i % 2]!.id, amountCents: amount, counterparty: 0 },
    ]);
  }
  // Today: a settlement (fee income, with GST in it) paid through its lifecycle (the federation's bank account).
  await s.p.db.organisation.update({
    where: { id: clubs[0]!.id },
    data: { bankBsb: "062000", bankAccount: "12345678" },
  });
  const batch = await confirmSettlement(s.p, {
    referenceDate: today(),
    selection: [{ organisationId: clubs[0]!.id, overrideCents: 12_345n }],
    actorUserId: financeId,
    requestKey: key("settle"),
  });
  await recordDownload(s.p, batch.batchId, { actorId: financeId }, "settlement.aba");
  await markSubmitted(s.p, { batchId: batch.batchId, actor: { actorId: financeId }, requestKey: key("sub") });
  await markPaid(s.p, { batchId: batch.batchId, actor: { actorId: financeId }, requestKey: key("paid") });
});
afterAll(() => s.close());
afterEach(async () => expect(await violations(s.p)).toEqual([]));

/** The ledger's movements per local day and ledger account, summed independently of the export's code. */
async function ledgerMovements(from: string, to: string) {
  const rows = await s.p.db.$queryRaw<{ day: string; account: string; sum: bigint }[]>`
    SELECT to_char(timezone(${TZ}, e.created_at), 'YYYY-MM-DD') AS day,
           coalesce('SYSTEM:' || a.system_code, a.kind::text) AS account, sum(e.amount_cents)::bigint AS sum
      FROM entries e, accounts a
     WHERE a.id = e.account_id AND timezone(${TZ}, e.created_at)::date BETWEEN ${from}::date AND ${to}::date
     GROUP BY 1, 2 HAVING sum(e.amount_cents) <> 0`;
  return new Map(rows.map((r) => [`${r.day}|${r.account}`, r.sum]));
}

const isoDay = fc
  .integer({ min: 0, max: 100 })
  .map((n) => new Date(Date.UTC(2026, 7, 25 + n)).toISOString().slice(0, 10));

test("the journal balances per day for random periods, and equals the ledger's movements summed independently", async () => {
  const list = await mappings(s.p);
  const endOfData = today();
  await fc.assert(
    fc.asyncProperty(isoDay, isoDay, fc.boolean(), async (a, b, withToday) => {
      const [from, to] = a <= b ? [a, withToday ? endOfData : b] : [b, withToday ? endOfData : a];
      const j = await journal(s.p, from, to, list);
      expect(j.unmapped).toEqual([]);
      for (const day of j.days) {
        expect(day.debitCents).toBe(day.creditCents);
        expect(day.lines.reduce((x, l) => x + l.amountCents, 0n)).toBe(0n);
        for (const l of day.lines) {
          // Tax only where the mapping says so, and then the GST in a GST-inclusive amount: |amount| / 11 to the cent.
          const abs = l.amountCents < 0n ? -l.amountCents : l.amountCents;
          const expected = l.ledgerAccount === "SYSTEM:FEE_INCOME" ? (2n * abs + 11n) / 22n : 0n;
          expect(l.taxCents < 0n ? -l.taxCents : l.taxCents).toBe(expected);
        }
      }
      expect(j.debitCents).toBe(j.creditCents);
      const exported = new Map(
        j.days.flatMap((d) => d.lines.map((l) => [`${l.date}|${l.ledgerAccount}`, l.amountCents])),
      );
      expect(exported).toEqual(await ledgerMovements(from, to));
    }),
    { numRuns: 30 },
  );
});

/** The export page for a period, and its export form as rendered with the file chosen in the select. */
async function exportForm(from: string, to: string, what: string, extra: Record<string, string> = {}) {
  const page = await editor.get(`/payments/accounting-export?from=${from}&to=${to}`);
  expect(page.status).toBe(200);
  expect(page.text).toContain(`<option value="${what}">`);
  return { page: page.text, form: { ...renderedForm(page.text, "export-form"), what, ...extra } };
}
const send = (form: Record<string, string>) =>
  editor.post("/payments/accounting-export").type("form").send(form).buffer(true);
const exportsOf = () => s.p.db.accountingExport.count();

test("the Xero manual journal: exactly Xero's columns, balanced per journal, equal to the ledger; a second export of the period only when asked", async () => {
  const [from, to] = ["2026-09-01", "2026-09-30"];
  const { form } = await exportForm(from, to, "xero-journal");
  const res = await send(form);
  expect(res.status).toBe(200);
  expect(res.headers["content-disposition"]).toBe(`attachment; filename="xero-manual-journal-${from}-to-${to}.csv"`);
  const rows = parse(body(res)) as string[][];
  expect(rows[0]).toEqual([
    "*Narration",
    "*Date",
    "Description",
    "*AccountCode",
    "*TaxRate",
    "*Amount",
    "TrackingName1",
    "TrackingOption1",
    "TrackingName2",
    "TrackingOption2",
  ]);
  const lines = rows.slice(1);
  const perJournal = new Map<string, bigint>();
  for (const [narration, date, , code, tax, amount] of lines) {
    expect(date).toMatch(/^\d{2}\/\d{2}\/2026$/);
    expect(narration).toBe(`Bridge Credits ledger 2026-${date!.slice(3, 5)}-${date!.slice(0, 2)}`);
    expect(tax).toBe("BAS Excluded");
    expect(code).toMatch(/^\d{4}$/);
    perJournal.set(narration!, (perJournal.get(narration!) ?? 0n) + cents(amount!));
  }
  expect([...perJournal.values()].every((v) => v === 0n)).toBe(true);
  // Xero's positive amount is a debit, the ledger's positive a credit: the file is the ledger negated.
  const codeOf = new Map((await mappings(s.p)).map((m) => [m.accountCode, m.ledgerAccount]));
  const fromFile = new Map(
    lines.map(([, date, , code, , amount]) => [
      `2026-${date!.slice(3, 5)}-${date!.slice(0, 2)}|${codeOf.get(code!)}`,
      -cents(amount!),
    ]),
  );
  expect(fromFile).toEqual(await ledgerMovements(from, to));
  expect(await exportsOf()).toBe(1);

  // The same form again (a double click): the same file, still one export recorded.
  const replay = await send(form);
  expect(replay.status).toBe(200);
  expect(body(replay)).toBe(body(res));
  expect(await exportsOf()).toBe(1);

  // A fresh page for an overlapping period says so, and refuses to export it again unasked.
  const { page, form: again } = await exportForm("2026-09-15", "2026-10-15", "gl-journal");
  expect(page).toContain('id="already-exported"');
  const refused = await send(again);
  expect(refused.status).toBe(400);
  expect(refused.text).toContain("was already exported: 2026-09-01 to 2026-09-30 (xero-journal)");
  expect(await exportsOf()).toBe(1);
  // Asked for explicitly (the box ticked on the refused page's form), it exports, recorded as an export again.
  const asked = await send({ ...renderedForm(refused.text, "export-form"), what: "gl-journal", reexport: "on" });
  expect(asked.status).toBe(200);
  const gl = parse(body(asked)) as string[][];
  expect(gl[0]).toEqual(["Date", "Account Code", "Description", "Debit", "Credit", "Tax"]);
  const debit = gl.slice(1).reduce((a, r) => a + (r[3] ? cents(r[3]) : 0n), 0n);
  const credit = gl.slice(1).reduce((a, r) => a + (r[4] ? cents(r[4]) : 0n), 0n);
  expect(debit).toBe(credit);
  expect(debit).toBeGreaterThan(0n);
  const recorded = await s.p.db.accountingExport.findMany({ orderBy: { id: "asc" } });
  expect(recorded.map((x) => [x.format, x.reexport])).toEqual([
    ["xero-journal", false],
    ["gl-journal", true],
  ]);
});

test("settlement bills and fee invoices in Xero's invoice template; the general ledger's GST on fee income", async () => {
  const day = today();
  const columns = [
    "*ContactName",
    "EmailAddress",
    "POAddressLine1",
    "POAddressLine2",
    "POAddressLine3",
    "POAddressLine4",
    "POCity",
    "PORegion",
    "POPostalCode",
    "POCountry",
    "*InvoiceNumber",
    "Reference",
    "*InvoiceDate",
    "*DueDate",
    "InventoryItemCode",
    "*Description",
    "*Quantity",
    "*UnitAmount",
    "Discount",
    "*AccountCode",
    "*TaxType",
    "TrackingName1",
    "TrackingOption1",
    "TrackingName2",
    "TrackingOption2",
    "Currency",
    "BrandingTheme",
  ];
  const settled = await s.p.db.settlement.findFirstOrThrow({ orderBy: { id: "desc" } });
  const bills = parse(body(await send((await exportForm(day, day, "xero-bills")).form))) as string[][];
  expect(bills[0]).toEqual(columns);
  const bill = Object.fromEntries(columns.map((c, i) => [c, bills[1]![i]]));
  expect(bill).toMatchObject({
    "*ContactName": settled.accountName,
    "*InvoiceNumber": `SET-${settled.id}`,
    Reference: `Settlement ${settled.accountName} ${day}`,
    "*Quantity": "1",
    "*UnitAmount": "119.75",
    "*AccountCode": "2120",
    "*TaxType": "BAS Excluded",
    Currency: "AUD",
  });
  const invoices = parse(body(await send((await exportForm(day, day, "xero-sales-invoices")).form))) as string[][];
  expect(invoices[0]).toEqual(columns);
  expect(invoices[1]![columns.indexOf("*UnitAmount")]).toBe("3.70");
  expect(invoices[1]![columns.indexOf("*TaxType")]).toBe("GST on Income");
  expect(invoices[1]![columns.indexOf("*AccountCode")]).toBe("4100");

  // Fee 3 % of $123.45 = $3.70, GST-inclusive: the tax column holds 370 / 11 = 33.6… → $0.34.
  const gl = parse(body(await send((await exportForm(day, day, "gl-journal")).form))) as string[][];
  const fee = gl.find((r) => r[1] === "4100")!;
  expect(fee.slice(3)).toEqual(["", "3.70", "0.34"]);
  expect(gl.find((r) => r[1] === "1200")!.slice(3, 5)).toEqual(["", "119.75"]);
});

test("a ledger account added later shows unmapped, blocks the journal with its name, and maps through the page", async () => {
  await s.p.db.$executeRaw`INSERT INTO accounts (kind, system_code) VALUES ('SYSTEM', 'STRIPE_PAYOUTS_TEST')`;
  const added = await s.p.db.account.findUniqueOrThrow({ where: { systemCode: "STRIPE_PAYOUTS_TEST" } });
  const page = await editor.get("/payments/accounting-mapping");
  expect(page.text).toContain('id="unmapped-SYSTEM:STRIPE_PAYOUTS_TEST"');
  await book("2026-08-10T12:00:00+10:00", "Miscellaneous", [
    { accountId: added.id, amountCents: 5_000n, counterparty: 1 },
    { system: "CARD_FUNDS", amountCents: -5_000n, counterparty: 0 },
  ]);
  const blocked = await send((await exportForm("2026-08-10", "2026-08-10", "xero-journal")).form);
  expect(blocked.status).toBe(400);
  expect(blocked.text).toContain("No account code for SYSTEM:STRIPE_PAYOUTS_TEST");

  const form = {
    ...renderedForm(page.text, "mapping-form"),
    // The two selects, as chosen: the new account, and "any" type (the select's first option, which the browser sends).
    ledger_account: "SYSTEM:STRIPE_PAYOUTS_TEST",
    transaction_type: "*",
    account_code: "1215",
  };
  expect((await editor.post("/payments/accounting-mapping").type("form").send(form)).status).toBe(302);
  const ok = await send((await exportForm("2026-08-10", "2026-08-10", "xero-journal")).form);
  expect(ok.status).toBe(200);
  const rows = parse(body(ok)) as string[][];
  expect(rows.slice(1).map((r) => [r[3], r[5]])).toEqual([
    ["1210", "50.00"],
    ["1215", "-50.00"],
  ]);
  // Bad input on the mapping form is refused with a message and changes nothing.
  const bad = await editor
    .post("/payments/accounting-mapping")
    .type("form")
    .send({ ...form, account_code: "no spaces" });
  expect(bad.status).toBe(400);
  expect(bad.text).toContain("The account code is 1–20 letters");
});

test("who may use it: finance viewers see, only finance editors export or map; members and club officers neither", async () => {
  expect((await viewer.get("/payments/accounting-export")).status).toBe(200);
  const vpage = await viewer.get("/payments/accounting-mapping");
  expect(vpage.status).toBe(200);
  expect(vpage.text).not.toContain('id="mapping-form"');
  const token = /name="_csrf" value="([^"]+)"/.exec(vpage.text)![1]!;
  const before = await exportsOf();
  const viewerExport = await viewer
    .post("/payments/accounting-export")
    .type("form")
    .send({ _csrf: token, from: "2026-09-01", to: "2026-09-02", what: "gl-journal" });
  expect(viewerExport.status).toBe(403);
  const club = await makeClub(s.p.db, "Officer");
  const officer = (await signIn(s.app, (await makeUser(s.p.db, { level: "EDIT", orgId: club.id })).email)).agent;
  const member = (await signIn(s.app, (await makeUser(s.p.db)).email)).agent;
  for (const agent of [officer, member]) {
    expect((await agent.get("/payments/accounting-export")).status).toBe(403);
    expect((await agent.get("/payments/accounting-mapping")).status).toBe(403);
    const t = /name="_csrf" value="([^"]+)"/.exec((await agent.get("/dashboard")).text)![1]!;
    const r = await agent
      .post("/payments/accounting-export")
      .type("form")
      .send({ _csrf: t, from: "2026-09-01", to: "2026-09-02", what: "gl-journal" });
    expect(r.status).toBe(403);
  }
  expect((await request(s.app).get("/payments/accounting-export")).status).toBe(302);
  expect(await exportsOf()).toBe(before);
});
