// A settlement batch through its whole life, driven through the pages as rendered (every hidden field from the
// HTML, boxes ticked as a person would): created → file downloaded → submitted → a line returned before payment →
// paid (under concurrent "mark paid" forms, once) → a line returned after payment. The ledger's invariants are
// checked after every step, and each step's money is checked against the accounts it must move.
import request from "supertest";
import type TestAgent from "supertest/lib/agent";
import { makeUser, signIn } from "../helpers/app";
import { type CardStack, startCardStack } from "../helpers/card-stack";
import { renderedForm, renderedInputs } from "../helpers/forms";
import { violations } from "../helpers/payments";
import { clubWithHistory, setDirectEntry, settleThroughPage } from "../helpers/settlement";

let s: CardStack;
let editor: TestAgent;
let viewer: TestAgent;
let officer: TestAgent;
const today = () => new Intl.DateTimeFormat("en-CA", { timeZone: "Australia/Sydney" }).format(new Date());

beforeAll(async () => {
  s = await startCardStack();
  const finance = await makeUser(s.p.db, { level: "EDIT", firstName: "Fiona" });
  editor = (await signIn(s.app, finance.email)).agent;
  viewer = (await signIn(s.app, (await makeUser(s.p.db, { level: "VIEW" })).email)).agent;
  await setDirectEntry(s.p.db);
});
afterAll(() => s.close());

const system = async (code: string) =>
  (await s.p.db.account.findUniqueOrThrow({ where: { systemCode: code } })).balanceCents;
const club = async (organisationId: number) =>
  (await s.p.db.account.findUniqueOrThrow({ where: { organisationId } })).balanceCents;
const statusOf = async (id: number) => (await s.p.db.settlementBatch.findUniqueOrThrow({ where: { id } })).status;
const sound = async () => expect(await violations(s.p)).toEqual([]);

/** The batch page and one of its forms as rendered, with the confirm box ticked (and other fields filled). */
async function batchForm(batchId: number, form: string, fill: Record<string, string> = {}) {
  const page = await editor.get(`/payments/settlement-batch/${batchId}`);
  expect(page.status).toBe(200);
  return formFrom(page.text, form, fill);
}
function formFrom(html: string, form: string, fill: Record<string, string> = {}) {
  const inputs = renderedInputs(html, form);
  for (const k of Object.keys(fill)) if (!inputs.some((i) => i.name === k)) throw new Error(`no field ${k} on ${form}`);
  return { ...renderedForm(html, form), ...fill };
}
const post = (batchId: number, step: string, form: Record<string, string>) =>
  editor.post(`/payments/settlement-batch/${batchId}/${step}`).type("form").send(form);

const settle = (ids: number[]) => settleThroughPage(editor, today(), ids);

test("a batch's whole life: downloaded, submitted, a line returned before and one after payment, paid once", async () => {
  const day = `${today()}T00:30:00+11:00`;
  // Balances 1,000 / 500 / 300 with 100 kept: gross 900 / 400 / 200, fee 3 %: net 873 / 388 / 194.
  const a = await clubWithHistory(s.p, [[day, 100_000n]], { name: "Alpha" });
  const b = await clubWithHistory(s.p, [[day, 50_000n]], { name: "Bravo", bsb: "062001", account: "9999999" });
  const c = await clubWithHistory(s.p, [[day, 30_000n]], { name: "Charlie" });
  const [payable0, bank0, fees0] = [
    await system("SETTLEMENTS_PAYABLE"),
    await system("FEDERATION_BANK"),
    await system("FEE_INCOME"),
  ];
  const batchId = await settle([a.id, b.id, c.id]);
  expect(await statusOf(batchId)).toBe("CREATED");
  expect((await system("SETTLEMENTS_PAYABLE")) - payable0).toBe(87_300n + 38_800n + 19_400n);
  await sound();

  // Before the file is downloaded there is nothing to mark, and reconciliation lists the payable with its age.
  let page = await editor.get(`/payments/settlement-batch/${batchId}`);
  expect(page.text).not.toContain('id="submitted-form"');
  expect(page.text).not.toContain('id="paid-form"');
  const rec = await viewer.get("/payments/admin-stripe-rec");
  const unpaid = /<table class="table table-sm" id="unpaid-payables">[\s\S]*?<\/table>/.exec(rec.text)![0];
  for (const name of [a.name, b.name, c.name]) expect(unpaid).toContain(name);
  expect(unpaid).toContain("$873.00");
  expect(unpaid).toMatch(/class="text-end age">0</);

  // Downloading the file moves it on, once, with who and when.
  await editor.get(`/payments/settlement-bank-file/${batchId}`).expect(200);
  await editor.get(`/payments/settlement-bank-file/${batchId}`).expect(200);
  const downloaded = await s.p.db.settlementBatch.findUniqueOrThrow({
    where: { id: batchId },
    include: { steps: true },
  });
  expect(downloaded.status).toBe("DOWNLOADED");
  expect(downloaded.downloadedAt).not.toBeNull();
  expect(downloaded.steps.map((x) => x.step)).toEqual(["DOWNLOADED"]);
  await sound();

  // Mark submitted: refused without the confirmation tick (nothing changes, the page keeps its request id)...
  page = await editor.get(`/payments/settlement-batch/${batchId}`);
  const unticked = renderedForm(page.text, "submitted-form");
  const refused = await post(batchId, "submitted", unticked);
  expect(refused.status).toBe(400);
  expect(refused.text).toContain("Tick the box to confirm.");
  expect(await statusOf(batchId)).toBe("DOWNLOADED");
  const again = formFrom(refused.text, "submitted-form", { confirm: "on" });
  expect(again.request_id).toBe(unticked.request_id);
  // ...then done, and the same form sent again changes nothing more.
  expect((await post(batchId, "submitted", again)).status).toBe(302);
  expect((await post(batchId, "submitted", again)).status).toBe(302);
  expect(await statusOf(batchId)).toBe("SUBMITTED");
  expect(await s.p.db.settlementBatchStep.count({ where: { batchId, step: "SUBMITTED" } })).toBe(1);
  await sound();

  // The bank returns Bravo's line before the batch is paid: the same form posted twice at once books once.
  const lineB = (await s.p.db.settlement.findFirstOrThrow({ where: { batchId, organisationId: b.id } })).id;
  const bBefore = await club(b.id);
  const ret = await batchForm(batchId, `return-${lineB}`, { confirm: "on", reason: "Account closed" });
  const both = await Promise.all([post(batchId, "return", ret), post(batchId, "return", ret)]);
  expect(both.map((r) => r.status)).toEqual([302, 302]);
  expect((await club(b.id)) - bBefore).toBe(40_000n);
  expect((await system("SETTLEMENTS_PAYABLE")) - payable0).toBe(87_300n + 19_400n);
  expect((await system("FEE_INCOME")) - fees0).toBe(2_700n + 600n);
  expect(await s.p.db.posting.count({ where: { idempotencyKey: `settlement-return:${lineB}` } })).toBe(1);
  const line = await s.p.db.posting.findUniqueOrThrow({ where: { idempotencyKey: `settlement-return:${lineB}` } });
  expect(line.description).toMatch(
    /^Settlement B\d+ \d{8} returned by the bank \(Account closed\): \$388\.00 was not paid to BSB 062001 account 9999999; \$400\.00 is back on this account\./,
  );
  const flagged = await s.p.db.organisation.findUniqueOrThrow({ where: { id: b.id } });
  expect(flagged.bankDetailsFlag).toContain("returned by the bank (Account closed)");
  await sound();
  // The flag shows on the batch page, the history and the settlement screen; the returned line has no form left.
  page = await editor.get(`/payments/settlement-batch/${batchId}`);
  expect(page.text).not.toContain(`id="return-${lineB}"`);
  expect(page.text).toContain("Bank details to fix");
  const history = await viewer.get("/payments/settlement-history");
  expect(history.text).toMatch(
    new RegExp(`${b.name}[\\s\\S]*?Returned by the bank <span class="badge text-bg-danger bank-flag">`),
  );
  const screen = await editor.get(`/payments/settlement?reference_date=${today()}`);
  expect(screen.text).toContain(`id="bank-flag-${b.id}"`);

  // Mark paid from two pages at once (two staff, two fresh forms): the payable is cleared exactly once.
  const [paid1, paid2] = [
    await batchForm(batchId, "paid-form", { confirm: "on" }),
    await batchForm(batchId, "paid-form", { confirm: "on" }),
  ];
  expect(paid1.request_id).not.toBe(paid2.request_id);
  const racing = await Promise.all([post(batchId, "paid", paid1), post(batchId, "paid", paid2)]);
  expect(racing.map((r) => r.status).sort()).toEqual([302, 400]);
  expect(racing.find((r) => r.status === 400)!.text).toMatch(/already marked paid by Fiona /);
  expect(await statusOf(batchId)).toBe("PAID");
  expect((await system("SETTLEMENTS_PAYABLE")) - payable0).toBe(0n);
  expect((await system("FEDERATION_BANK")) - bank0).toBe(87_300n + 19_400n);
  expect(await s.p.db.posting.count({ where: { idempotencyKey: `settlement-paid:${batchId}` } })).toBe(1);
  await sound();
  const recPaid = await viewer.get("/payments/admin-stripe-rec");
  expect(recPaid.text).not.toContain(`href="/payments/settlement-batch/${batchId}"`);

  // The bank returns Charlie's line after payment: the money comes back out of the bank account.
  const lineC = (await s.p.db.settlement.findFirstOrThrow({ where: { batchId, organisationId: c.id } })).id;
  const cBefore = await club(c.id);
  expect(
    (
      await post(
        batchId,
        "return",
        await batchForm(batchId, `return-${lineC}`, { confirm: "on", reason: "Invalid BSB" }),
      )
    ).status,
  ).toBe(302);
  expect((await club(c.id)) - cBefore).toBe(20_000n);
  expect((await system("FEDERATION_BANK")) - bank0).toBe(87_300n);
  expect((await system("FEE_INCOME")) - fees0).toBe(2_700n);
  expect((await system("SETTLEMENTS_PAYABLE")) - payable0).toBe(0n);
  await sound();

  const steps = await s.p.db.settlementBatchStep.findMany({ where: { batchId }, orderBy: { id: "asc" } });
  expect(steps.map((x) => x.step)).toEqual(["DOWNLOADED", "SUBMITTED", "RETURNED", "PAID", "RETURNED"]);
  page = await viewer.get(`/payments/settlement-batch/${batchId}`);
  expect(page.text).toMatch(/id="batch-status">Paid</);
  expect(page.text).toContain("Fiona");

  // Changing the club's bank details clears its flag (there is no club page for them yet: an operator's update).
  await s.p.db.organisation.update({ where: { id: b.id }, data: { bankAccount: "12345678" } });
  expect((await s.p.db.organisation.findUniqueOrThrow({ where: { id: b.id } })).bankDetailsFlag).toBeNull();
});

test("steps out of order are refused with a message and change nothing", async () => {
  const a = await clubWithHistory(s.p, [[`${today()}T00:30:00+11:00`, 50_000n]], { name: "Order" });
  const batchId = await settle([a.id]);
  const lineA = (await s.p.db.settlement.findFirstOrThrow({ where: { batchId } })).id;
  // A form from another batch's page, sent to this batch before its time (the page itself would not show it).
  const other = await settle([(await clubWithHistory(s.p, [[`${today()}T00:30:00+11:00`, 50_000n]])).id]);
  await editor.get(`/payments/settlement-bank-file/${other}`).expect(200);
  const form = await batchForm(other, "submitted-form", { confirm: "on" });
  const early = await post(batchId, "submitted", form);
  expect(early.status).toBe(400);
  expect(early.text).toContain(`Download the bank file of batch ${batchId} before marking it submitted.`);
  const paidEarly = await post(batchId, "paid", form);
  expect(paidEarly.text).toContain(`Mark batch ${batchId} submitted to the bank before marking it paid.`);
  const returnEarly = await post(batchId, "return", { ...form, settlement_id: String(lineA), reason: "x" });
  expect(returnEarly.text).toContain("has not been submitted to the bank");
  expect(await statusOf(batchId)).toBe("CREATED");
  await sound();
});

test("who may see and act: viewers see, only finance editors act, officers and strangers neither", async () => {
  const clubA = await clubWithHistory(s.p, [[`${today()}T00:30:00+11:00`, 50_000n]], { name: "Who" });
  const batchId = await settle([clubA.id]);
  const officerUser = await makeUser(s.p.db, { level: "EDIT", orgId: clubA.id });
  officer = (await signIn(s.app, officerUser.email)).agent;
  const viewed = await viewer.get(`/payments/settlement-batch/${batchId}`);
  expect(viewed.status).toBe(200);
  expect(viewed.text).not.toContain('<form method="post" action="/payments/settlement-batch/');
  const token = /name="_csrf" value="([^"]+)"/.exec(viewed.text)![1]!;
  for (const step of ["submitted", "paid", "return"]) {
    const r = await viewer.post(`/payments/settlement-batch/${batchId}/${step}`).type("form").send({ _csrf: token });
    expect(r.status).toBe(403);
  }
  expect((await officer.get(`/payments/settlement-batch/${batchId}`)).status).toBe(403);
  expect((await request(s.app).get(`/payments/settlement-batch/${batchId}`)).status).toBe(302);
  expect(await statusOf(batchId)).toBe("CREATED");
});
