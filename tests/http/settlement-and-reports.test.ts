// Settlement through the pages (export, confirm, bank file, history), reconciliation and the movement report,
// their numbers checked against sums computed independently here, and who may use them. The settlement form is
// driven as the page renders it: every hidden field (CSRF token, request id, reference date) is read from the HTML.
import { parse } from "csv-parse/sync";
import ExcelJS from "exceljs";
import request from "supertest";
import type TestAgent from "supertest/lib/agent";
import { memberRefund } from "../../src/services/cards/card-refunds";
import { paymentApiBatch } from "../../src/services/payments/payment-api-batch";
import { csrfToken, makeClub, makeUser, signIn } from "../helpers/app";
import { type CardStack, startCardStack, topUpByCard } from "../helpers/card-stack";
import { renderedForm, renderedInputs } from "../helpers/forms";
import { fundMember, fundOrganisation, key, violations } from "../helpers/payments";
import { clubWithHistory, setDirectEntry } from "../helpers/settlement";

let s: CardStack;
let editor: TestAgent;
let viewer: TestAgent;
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
  const v = await makeUser(s.p.db, { level: "VIEW" });
  viewer = (await signIn(s.app, v.email)).agent;
  viewerToken = await csrfToken(viewer, "/dashboard");
  await setDirectEntry(s.p.db);
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

const balanceOf = async (organisationId: number) =>
  (await s.p.db.account.findUniqueOrThrow({ where: { organisationId } })).balanceCents;

/** The settlement page for a date, and its form as rendered (hidden fields included, nothing ticked yet). */
async function settlementPage(date: string) {
  const page = await editor.get(`/payments/settlement?reference_date=${date}`);
  expect(page.status).toBe(200);
  return { html: page.text, form: renderedForm(page.text, "settlement-form") };
}

/** Ticks a club's box as a person would: only a box the page shows, and not a disabled one. */
function tick(html: string, form: Record<string, string>, organisationId: number) {
  const box = renderedInputs(html, "settlement-form").find((i) => i.name === `org_${organisationId}`);
  if (!box) throw new Error(`organisation ${organisationId} is not offered on the page`);
  if (box.disabled) throw new Error(`organisation ${organisationId} cannot be ticked`);
  return { ...form, [`org_${organisationId}`]: "on" };
}

const submit = (form: Record<string, string>, action: "confirm" | "export") =>
  editor
    .post("/payments/settlement")
    .type("form")
    .send({ ...form, action });

const totalsOf = (html: string) =>
  ["total-liability", "max-gross", "max-net"].map((id) => new RegExp(`id="${id}">([^<]*)<`).exec(html)?.[1]);
const rowOf = (html: string, organisationId: number) =>
  new RegExp(`<tr id="club-${organisationId}"[\\s\\S]*?</tr>`).exec(html)?.[0];

describe("settlement pages", () => {
  test("only finance editors settle; viewers see the history", async () => {
    expect((await viewer.get("/payments/settlement")).status).toBe(403);
    expect((await viewer.post("/payments/settlement").type("form").send({ _csrf: viewerToken })).status).toBe(403);
    expect((await viewer.get("/payments/settlement-history")).status).toBe(200);
    expect((await request(s.app).get("/payments/settlement")).status).toBe(302);
  });

  test("export books nothing; a refused confirmation keeps its request id; confirm books; the bank file is the same every time", async () => {
    const c = await bankedClub(100_000n, "Export");
    const { html, form: rendered } = await settlementPage(today());
    expect(rendered.reference_date).toBe(today());
    const form = tick(html, rendered, c.id);
    const exported = await submit(form, "export").buffer(true);
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
    expect(await balanceOf(c.id)).toBe(100_000n);

    const bad = await submit({ ...form, [`override_${c.id}`]: "950" }, "confirm");
    expect(bad.status).toBe(400);
    expect(bad.text).toContain(`Invalid settlement amount for ${c.name}`);
    expect(await balanceOf(c.id)).toBe(100_000n);
    // The page shown again is the same form: same request id, the box still ticked.
    const again = renderedForm(bad.text, "settlement-form");
    expect(again.request_id).toBe(form.request_id);
    expect(again[`org_${c.id}`]).toBe("on");

    const done = await submit({ ...again, [`override_${c.id}`]: "500" }, "confirm");
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

  test("each page carries a fresh request id: two settlements in a row are two batches; one form sent twice books once", async () => {
    const a = await bankedClub(30_000n, "First");
    const b = await bankedClub(40_000n, "Second");
    const first = await settlementPage(today());
    const other = await settlementPage(today());
    expect(first.form.request_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(other.form.request_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(other.form.request_id).not.toBe(first.form.request_id);

    // A double click: the same rendered form twice, at once. One batch, and both answers lead to it.
    const formA = tick(first.html, first.form, a.id);
    const [r1, r2] = await Promise.all([submit(formA, "confirm"), submit(formA, "confirm")]);
    expect([r1.status, r2.status]).toEqual([302, 302]);
    expect(r2.headers.location).toBe(r1.headers.location);
    expect(await balanceOf(a.id)).toBe(10_000n);
    expect(await s.p.db.settlement.count({ where: { organisationId: a.id } })).toBe(1);

    // Back to the page, as the confirmation page's link does: another club is another batch.
    const next = await settlementPage(today());
    expect(rowOf(next.html, a.id)).toBeUndefined();
    const second = await submit(tick(next.html, next.form, b.id), "confirm");
    expect(second.status).toBe(302);
    expect(second.headers.location).not.toBe(r1.headers.location);
    expect((await editor.get(second.headers.location!)).text).toContain("Settlement processed successfully.");
    expect(await balanceOf(b.id)).toBe(10_000n);

    // The first page, used already, cannot settle something else under its id.
    const stale = await submit(tick(first.html, first.form, b.id), "confirm");
    expect(stale.status).toBe(400);
    expect(stale.text).toContain("This settlement form was already used to confirm batch");
  });

  test("after a settlement the screen offers only what is left, with totals that follow; an unpayable club cannot be ticked", async () => {
    // Reference dates in 2025: only the clubs made here had money then.
    const paid = await clubWithHistory(
      s.p,
      [
        ["2025-09-15T02:00:00Z", 100_000n],
        ["2025-10-15T02:00:00Z", 50_000n],
      ],
      { name: "Paid" },
    );
    const nobank = await clubWithHistory(s.p, [["2025-09-15T02:00:00Z", 30_000n]], {
      name: "NoBank",
      minCents: 0n,
      bsb: null,
    });
    const sept = await settlementPage("2025-09-30");
    expect(totalsOf(sept.html)).toEqual(["$1,300.00", "$1,200.00", "$1,164.00"]); // $900 + $300; $873 + $291
    const box = renderedInputs(sept.html, "settlement-form").find((i) => i.name === `org_${nobank.id}`);
    expect(box?.disabled).toBe(true);
    expect(rowOf(sept.html, nobank.id)).toContain("Not selectable: no valid BSB");
    expect(() => tick(sept.html, sept.form, nobank.id)).toThrow("cannot be ticked");

    const oct = await settlementPage("2025-10-31");
    expect(rowOf(oct.html, paid.id)).toContain("$1,400.00");
    const done = await submit(tick(oct.html, oct.form, paid.id), "confirm"); // $1,400 gross
    expect(done.status).toBe(302);
    expect(await balanceOf(paid.id)).toBe(10_000n);

    // October was paid in full, September's money with it: the club is offered for neither date.
    for (const date of ["2025-10-31", "2025-09-30"]) {
      const after = await settlementPage(date);
      expect(rowOf(after.html, paid.id)).toBeUndefined();
      expect(totalsOf(after.html)).toEqual(["$300.00", "$300.00", "$291.00"]);
    }
  });

  test("no settlement while the federation's bank details are unset; finance sets them on the payment settings page", async () => {
    const c = await clubWithHistory(s.p, [["2025-09-15T02:00:00Z", 20_000n]], { name: "Unset", minCents: 0n });
    await setDirectEntry(s.p.db, { abaBankCode: null, abaUserId: null, federationBsb: null, federationAccount: null });
    try {
      const page = await settlementPage("2025-09-30");
      expect(page.html).toContain("The settlement bank file cannot be written");
      const refused = await submit(tick(page.html, page.form, c.id), "confirm");
      expect(refused.status).toBe(400);
      expect(refused.text).toContain("A finance editor sets them on the Payment settings page");
      expect(await balanceOf(c.id)).toBe(20_000n);

      const settings = await editor.get("/payments/admin-payments-static");
      const form = renderedForm(settings.text, "settings-form");
      expect([form.abaBankCode, form.abaUserId, form.federationBsb, form.federationAccount]).toEqual(["", "", "", ""]);
      for (const [field, value, message] of [
        ["federationBsb", "000-000", "BSB is six digits"],
        ["federationBsb", "06-20000", "BSB is six digits"],
        ["abaUserId", "000000", "user id is six digits"],
        ["abaUserId", "12345a", "user id is six digits"],
      ] as const) {
        const res = await editor
          .post("/payments/admin-payments-static")
          .type("form")
          .send({ ...form, [field]: value });
        expect(res.status).toBe(400);
        expect(res.text).toContain(message);
      }
      const saved = await editor
        .post("/payments/admin-payments-static")
        .type("form")
        .send({
          ...form,
          abaBankCode: "nab",
          abaUserId: "123456",
          federationBsb: "083-004",
          federationAccount: "99887766",
        });
      expect(saved.status).toBe(302);
      expect(
        renderedForm((await editor.get("/payments/admin-payments-static")).text, "settings-form").federationBsb,
      ).toBe("083-004");

      // The refused page, sent again as it was shown, now settles; its file carries the saved details.
      const done = await submit(renderedForm(refused.text, "settlement-form"), "confirm");
      expect(done.status).toBe(302);
      const batchId = Number(done.headers.location!.split("/").at(-1));
      const [header, detail] = (
        await s.p.db.settlementBatch.findUniqueOrThrow({ where: { id: batchId } })
      ).abaFile.split("\r\n");
      expect([header!.slice(20, 23), header!.slice(56, 62)]).toEqual(["NAB", "123456"]);
      expect([detail!.slice(62, 80), detail!.slice(80, 87), detail!.slice(87, 96)]).toEqual([
        `B${batchId} 20250930`.padEnd(18),
        "083-004",
        " 99887766",
      ]);
    } finally {
      await setDirectEntry(s.p.db);
    }
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
