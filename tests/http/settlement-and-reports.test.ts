// Settlement through the pages (export, confirm, bank file, history), reconciliation and the movement report,
// their numbers checked against sums computed independently here, and who may use them.
import { parse } from "csv-parse/sync";
import ExcelJS from "exceljs";
import request from "supertest";
import type TestAgent from "supertest/lib/agent";
import { memberRefund } from "../../src/services/cards/card-refunds";
import { paymentApiBatch } from "../../src/services/payments/payment-api-batch";
import { csrfToken, makeClub, makeUser, signIn } from "../helpers/app";
import { type CardStack, startCardStack, topUpByCard } from "../helpers/card-stack";
import { fundMember, fundOrganisation, key, violations } from "../helpers/payments";

let s: CardStack;
let editor: TestAgent;
let viewer: TestAgent;
let token: string;
let viewerToken: string;
let finance: { id: number };
const today = () => new Intl.DateTimeFormat("en-CA", { timeZone: "Australia/Sydney" }).format(new Date());
const body = (res: { text?: string; body: unknown }) => (typeof res.body === "string" ? res.body : (res.text ?? ""));
// biome-ignore lint/suspicious/noExplicitAny: supertest's parser callback type
const binary = (r: any, cb: (e: Error | null, b: Buffer) => void) => {
  const chunks: Buffer[] = [];
  r.on("data", (c: Buffer) => chunks.push(c));
  r.on("end", () => cb(null, Buffer.concat(chunks)));
};

beforeAll(async () => {
  s = await startCardStack();
  finance = await makeUser(s.p.db, { level: "EDIT" });
  editor = (await signIn(s.app, (finance as { email: string } & typeof finance).email)).agent;
  token = await csrfToken(editor, "/dashboard");
  const v = await makeUser(s.p.db, { level: "VIEW" });
  viewer = (await signIn(s.app, v.email)).agent;
  viewerToken = await csrfToken(viewer, "/dashboard");
});
afterAll(() => s.close());
afterEach(async () => expect(await violations(s.p)).toEqual([]));

async function bankedClub(cents: bigint, name = "Banked") {
  const c = await makeClub(s.p.db, name);
  await s.p.db.organisation.update({
    where: { id: c.id },
    data: { bankBsb: "062000", bankAccount: "11112222", minBalanceAfterSettlementCents: 10_000n },
  });
  await fundOrganisation(s.p, c.id, cents, finance.id);
  return c;
}

describe("settlement pages", () => {
  test("only finance editors settle; viewers see the history", async () => {
    expect((await viewer.get("/payments/settlement")).status).toBe(403);
    expect((await viewer.post("/payments/settlement").type("form").send({ _csrf: viewerToken })).status).toBe(403);
    expect((await viewer.get("/payments/settlement-history")).status).toBe(200);
    expect((await request(s.app).get("/payments/settlement")).status).toBe(302);
  });

  test("export books nothing; a bad override is refused; confirm books, and the bank file is the same every time", async () => {
    const c = await bankedClub(100_000n, "Export");
    const page = await editor.get(`/payments/settlement?reference_date=${today()}`);
    expect(page.text).toContain(c.name);
    const form = { _csrf: token, reference_date: today(), [`org_${c.id}`]: "on" };
    const exported = await editor
      .post("/payments/settlement")
      .type("form")
      .send({ ...form, action: "export" })
      .buffer(true);
    const rows = parse(body(exported)) as string[][];
    expect(exported.headers["content-disposition"]).toMatch(
      new RegExp(`filename="settlements-${today()}-at-\\d{4}-\\d{2}-\\d{2}-\\d{4}\\.csv"$`),
    );
    expect(rows[0]).toEqual([
      "CLub Number",
      "CLub Name",
      "BSB",
      "Account Number",
      "Gross Amount",
      "Minimum Balance",
      "Net Amount",
      "ABF fees %",
      "Settlement Amount",
    ]);
    expect(rows[1]).toEqual([
      c.clubNumber,
      c.name,
      "062000",
      "11112222",
      "1000.00",
      "100.00",
      "900.00",
      "3.00",
      "873.00",
    ]);
    expect((await s.p.db.account.findUniqueOrThrow({ where: { organisationId: c.id } })).balanceCents).toBe(100_000n);

    const bad = await editor
      .post("/payments/settlement")
      .type("form")
      .send({ ...form, [`override_${c.id}`]: "950", action: "confirm" });
    expect(bad.status).toBe(400);
    expect(bad.text).toContain(`Invalid settlement amount for ${c.name}`);
    expect((await s.p.db.account.findUniqueOrThrow({ where: { organisationId: c.id } })).balanceCents).toBe(100_000n);

    const done = await editor
      .post("/payments/settlement")
      .type("form")
      .send({ ...form, [`override_${c.id}`]: "500", action: "confirm", request_id: `r-${key()}` });
    expect(done.status).toBe(302);
    const complete = await editor.get(done.headers.location!);
    expect(complete.text).toContain("$485.00");
    const batchId = done.headers.location!.split("/").at(-1);
    const file1 = await editor.get(`/payments/settlement-bank-file/${batchId}`).buffer(true).parse(binary);
    const file2 = await editor.get(`/payments/settlement-bank-file/${batchId}`).buffer(true).parse(binary);
    expect((file1.body as Buffer).equals(file2.body as Buffer)).toBe(true);
    expect(file1.headers["content-disposition"]).toBe(`attachment; filename="settlement-${batchId}-${today()}.aba"`);
    const lines = (file1.body as Buffer).toString("ascii").split("\r\n");
    expect(lines[1]!.slice(20, 30)).toBe("0000048500");
    expect((await viewer.get("/payments/settlement-history")).text).toContain(c.name);
  });
});

describe("reconciliation", () => {
  test("totals equal the accounts' balances; the card-funds check agrees after top-ups and refunds", async () => {
    const m = await makeUser(s.p.db);
    const card = { id: await topUpByCard(s, m.id, 6_000n) };
    await memberRefund(s.p, m.id, card.id);
    await fundMember(s.p, (await makeUser(s.p.db)).id, 1_234n, finance.id);

    const res = await viewer.get(`/payments/admin-stripe-rec?ref_date=${today()}`);
    const sum = async (kind: "MEMBER" | "ORGANISATION") =>
      (await s.p.db.account.aggregate({ where: { kind }, _sum: { balanceCents: true } }))._sum.balanceCents ?? 0n;
    const dollars = (c: bigint) => `$${(Number(c) / 100).toLocaleString("en-AU", { minimumFractionDigits: 2 })}`; // test-side
    expect(res.text).toContain(`id="member-total">${dollars(await sum("MEMBER"))}`);
    expect(res.text).toContain(`id="org-total">${dollars(await sum("ORGANISATION"))}`);
    expect(res.text).toContain("they agree");

    const members = await viewer
      .post("/payments/admin-stripe-rec-download-member")
      .type("form")
      .send({ _csrf: viewerToken, ref_date: today() })
      .buffer(true);
    const rows = parse(body(members)) as string[][];
    expect(rows[0]).toEqual(["ABF Number", "First Name", "Last Name", "Balance"]);
    const total = rows.slice(1).reduce((a, r) => a + BigInt(r[3]!.replace(".", "")), 0n);
    expect(total).toBe(await sum("MEMBER"));
    const rec = await viewer
      .post("/payments/admin-stripe-rec-download")
      .type("form")
      .send({ _csrf: viewerToken, ref_date: today() })
      .buffer(true);
    const recRows = parse(body(rec)) as string[][];
    expect(recRows[0]).toEqual([
      "Date",
      "Table",
      "Counterparty",
      "Reference",
      "Type",
      "Description",
      "Amount",
      "Balance",
    ]);
    expect(recRows.some((r) => r[1] === "Stripe Transaction" && r[6] === "60.00")).toBe(true);
  });
});

describe("organisation movement report", () => {
  test("each column equals the movements made here; opening plus movements is closing; CSV and XLSX agree", async () => {
    const c = await bankedClub(50_000n, "Movement");
    const payer = await makeUser(s.p.db);
    await fundMember(s.p, payer.id, 100_000n, finance.id);
    const pay = (cents: bigint, extra: Record<string, unknown>) =>
      paymentApiBatch(s.p, {
        memberId: payer.id,
        organisationId: c.id,
        amountCents: cents,
        description: "x",
        idempotencyKey: key(),
        ...extra,
      });
    await pay(1_100n, { eventId: 77 });
    await pay(2_200n, { clubSessionId: 88 });
    await pay(3_300n, { type: "Club Membership" });
    await pay(4_400n, { type: "Club Payment" });
    const path = `/payments/organisation-movement-report?from=${today()}&to=${today()}`;
    const csvRes = await viewer.get(`${path}&format=csv`).buffer(true);
    const csvRows = parse(body(csvRes)) as string[][];
    expect(csvRows[0]![1]).toBe("Organisation");
    const line = csvRows.find((r) => r[1] === c.name)!;
    // Opening 0 (funded today), events, sessions, memberships, other (the funding is an adjustment), adjustments, settlements, closing
    expect(line.slice(2)).toEqual(["0.00", "11.00", "22.00", "33.00", "44.00", "500.00", "0.00", "610.00"]);
    const closing = (await s.p.db.account.findUniqueOrThrow({ where: { organisationId: c.id } })).balanceCents;
    expect(closing).toBe(61_000n);
    const page = await viewer.get(path);
    expect(page.text).not.toContain("does not equal closing");

    const xlsx = await viewer.get(`${path}&format=xlsx`).buffer(true).parse(binary);
    const book = new ExcelJS.Workbook();
    await book.xlsx.load(Uint8Array.from(xlsx.body as Buffer).buffer);
    const sheet = book.getWorksheet("Movements")!;
    let found: unknown[] | null = null;
    sheet.eachRow((row) => {
      if (row.getCell(2).value === c.name) found = (row.values as unknown[]).slice(1);
    });
    expect(found).toEqual([c.clubNumber, c.name, 0, 11, 22, 33, 44, 500, 0, 610]);
  });
});
