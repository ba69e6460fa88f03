// Changing a club's bank details and minimum balance after settlement (issue 19 item 4), driven through the pages
// as rendered: bad values refused with a clear message and nothing changed; the confirmation shows old and new
// values; the confirmed form acts once; the club's officers get a message; the returned-line flag clears; the next
// settlement's bank file pays to the new details; the settlement history shows who changed what and when; the CLI
// goes through the same service and rules.
import type TestAgent from "supertest/lib/agent";
import { runAdmin } from "../../src/cli/admin";
import { AppError } from "../../src/lib/errors";
import { csrfToken, makeUser, signIn } from "../helpers/app";
import { type CardStack, startCardStack } from "../helpers/card-stack";
import { renderedForm, renderedInputs } from "../helpers/forms";
import { bookForClub, clubWithHistory, setDirectEntry, settleThroughPage } from "../helpers/settlement";

let s: CardStack;
let editor: TestAgent;
let viewer: TestAgent;
let officer: TestAgent;
let officerB: TestAgent;
let officers: { edit: number; view: number };
const day = (offset: number) =>
  new Intl.DateTimeFormat("en-CA", { timeZone: "Australia/Sydney" }).format(new Date(Date.now() + offset * 86_400_000));

let club: { id: number; name: string; clubNumber: string };

beforeAll(async () => {
  s = await startCardStack();
  editor = (await signIn(s.app, (await makeUser(s.p.db, { level: "EDIT", firstName: "Fiona" })).email)).agent;
  viewer = (await signIn(s.app, (await makeUser(s.p.db, { level: "VIEW" })).email)).agent;
  await setDirectEntry(s.p.db);
  // Money from three days ago: settled for the day before yesterday.
  club = await clubWithHistory(s.p, [[`${day(-3)}T02:00:00Z`, 100_000n]], {
    name: "Harbour",
    bsb: "062001",
    account: "9999999",
  });
  const o = await makeUser(s.p.db, { level: "EDIT", orgId: club.id, firstName: "Olive" });
  const v = await makeUser(s.p.db, { level: "VIEW", orgId: club.id, firstName: "Vera" });
  officers = { edit: o.id, view: v.id };
  officer = (await signIn(s.app, o.email)).agent;
  const other = await clubWithHistory(s.p, [], { name: "Other" });
  officerB = (await signIn(s.app, (await makeUser(s.p.db, { level: "EDIT", orgId: other.id })).email)).agent;
});
afterAll(() => s.close());

const org = () => s.p.db.organisation.findUniqueOrThrow({ where: { id: club.id } });
/** The club row as text, to compare before and after (BigInt as its digits). */
const orgText = async () => JSON.stringify(await org(), (_k, v) => (typeof v === "bigint" ? String(v) : v));
const path = () => `/payments/org-bank-details/${club.id}`;

const settle = (referenceDate: string) => settleThroughPage(editor, referenceDate, [club.id]);

/** A form on a page as rendered, with some fields filled (each must be on the form). */
function fill(html: string, form: string, values: Record<string, string>) {
  const inputs = renderedInputs(html, form);
  for (const k of Object.keys(values))
    if (!inputs.some((i) => i.name === k)) throw new Error(`no field ${k} on ${form}`);
  return { ...renderedForm(html, form), ...values };
}

/** The club's detail record in a bank file: BSB, account, amount and account name by ABA position. */
function detailRecord(aba: string) {
  const rec = aba.split("\r\n").find((l) => l.startsWith("1"))!;
  return { bsb: rec.slice(1, 8), account: rec.slice(8, 17), amount: rec.slice(20, 30), name: rec.slice(30, 62).trim() };
}

test("a returned settlement, then new details: validated, confirmed once, officers told, flag cleared, next file pays them", async () => {
  // First settlement pays to the old details; the bank returns it, so the club is flagged.
  const first = await settle(day(-2));
  expect(detailRecord((await editor.get(`/payments/settlement-bank-file/${first}`)).text)).toMatchObject({
    bsb: "062-001",
    account: "  9999999",
  });
  let batch = await editor.get(`/payments/settlement-batch/${first}`);
  await editor
    .post(`/payments/settlement-batch/${first}/submitted`)
    .type("form")
    .send(fill(batch.text, "submitted-form", { confirm: "on" }))
    .expect(302);
  const line = (await s.p.db.settlement.findFirstOrThrow({ where: { batchId: first } })).id;
  batch = await editor.get(`/payments/settlement-batch/${first}`);
  await editor
    .post(`/payments/settlement-batch/${first}/return`)
    .type("form")
    .send(fill(batch.text, `return-${line}`, { confirm: "on", reason: "Account closed" }))
    .expect(302);
  expect((await org()).bankDetailsFlag).toContain("Account closed");

  // The club page offers the change to finance editors only; the form shows today's values.
  expect((await editor.get(`/payments/statement-org/${club.id}`)).text).toContain(`href="${path()}"`);
  expect((await officer.get(`/payments/statement-org/${club.id}`)).text).not.toContain(`href="${path()}"`);
  let page = await editor.get(path());
  expect(page.status).toBe(200);
  expect(page.headers["cache-control"]).toBe("no-store");
  expect(page.text).toContain("Bank details to fix");
  expect(renderedForm(page.text, "bank-details-form")).toMatchObject({
    bsb: "062-001",
    account: "9999999",
    min_balance: "100.00",
  });

  // Bad values: refused with a clear message, nothing changed, the form keeps what was typed and its request id.
  const before = await orgText();
  const notices = await s.p.db.notification.count();
  for (const [values, message] of [
    [{ bsb: "62-0001" }, "BSB must be six digits written NNN-NNN"],
    [{ bsb: "000-000" }, "BSB 000-000 is not a bank branch."],
    [{ account: "1234" }, "Account number must be 5 to 9 digits"],
    [{ account: "12 345 678" }, "Account number must be 5 to 9 digits"],
    [{ account: "1234567890" }, "Account number must be 5 to 9 digits"],
    [{ account_name: "A".repeat(33) }, "Account name must be at most 32 characters"],
    [{ min_balance: "-5" }, "Minimum balance"],
    [{ min_balance: "12.345" }, "Minimum balance"],
  ] as [Record<string, string>, string][]) {
    const form = fill(page.text, "bank-details-form", values);
    const res = await editor.post(path()).type("form").send(form);
    expect({ values, status: res.status }).toEqual({ values, status: 400 });
    expect(res.text).toContain(message);
    expect(renderedForm(res.text, "bank-details-form").request_id).toBe(form.request_id);
  }
  expect(await orgText()).toBe(before);
  expect(await s.p.db.organisationBankChange.count()).toBe(0);
  expect((await s.p.pool.query("SELECT 1 FROM audit_events WHERE action = 'org.bank_details'")).rowCount).toBe(0);
  expect(await s.p.db.notification.count()).toBe(notices);

  // Review: old and new values side by side, nothing changed yet.
  const wanted = { bsb: "083-004", account: "7654321", account_name: "Harbour BC Inc", min_balance: "150.00" };
  const review = await editor
    .post(path())
    .type("form")
    .send(fill(page.text, "bank-details-form", wanted));
  expect(review.status).toBe(200);
  const table = /<table[^>]*id="bank-change-review">[\s\S]*?<\/table>/.exec(review.text)![0];
  expect(table).toMatch(/BSB<\/th><td class="old">062-001<\/td><td class="new"><strong>083-004/);
  expect(table).toMatch(/Account number<\/th><td class="old">9999999<\/td><td class="new"><strong>7654321/);
  expect(table).toMatch(
    /Account name<\/th><td class="old">Harbour \d+ \(the club&#39;s name\)<\/td><td class="new"><strong>Harbour BC Inc/,
  );
  expect(table).toMatch(
    /Minimum balance after settlement<\/th><td class="old">\$100\.00<\/td><td class="new"><strong>\$150\.00/,
  );
  expect(await orgText()).toBe(before);

  // Confirmed: changed once, even when the same confirmation is sent twice at once.
  const confirm = renderedForm(review.text, "bank-details-confirm");
  const both = await Promise.all([
    editor.post(path()).type("form").send(confirm),
    editor.post(path()).type("form").send(confirm),
  ]);
  expect(both.map((r) => r.status)).toEqual([302, 302]);
  const after = await org();
  expect(after).toMatchObject({
    bankBsb: "083004",
    bankAccount: "7654321",
    bankAccountName: "Harbour BC Inc",
    minBalanceAfterSettlementCents: 15_000n,
    bankDetailsFlag: null,
  });
  const changes = await s.p.db.organisationBankChange.findMany();
  expect(changes).toHaveLength(1);
  expect(changes[0]).toMatchObject({ oldBsb: "062001", newBsb: "083004", source: "web" });
  expect(changes[0]!.clearedFlag).toContain("Account closed");
  // One audit row, in the change's transaction, naming who and the values before and after.
  const audit = await s.p.pool.query<{ actor_label: string; before: { bsb: string }; after: { bsb: string } }>(
    "SELECT actor_label, before, after FROM audit_events WHERE action = 'org.bank_details' AND target_id = $1",
    [String(club.id)],
  );
  expect(audit.rows).toHaveLength(1);
  expect(audit.rows[0]).toMatchObject({ before: { bsb: "062001" }, after: { bsb: "083004" } });
  expect(audit.rows[0]!.actor_label).toMatch(/^Fiona /);

  // Both officers of the club are told, once each; nobody else.
  const told = await s.p.db.notification.findMany({ where: { kind: "BANK_DETAILS_CHANGED" } });
  expect(told.map((n) => n.userId).sort()).toEqual([officers.edit, officers.view].sort());
  expect(told[0]!.body).toContain("BSB: 062-001 → 083-004");
  expect(told[0]!.body).toContain("Account number: ending 999 → ending 321");
  expect(told[0]!.body).toContain("Minimum balance after settlement: $100.00 → $150.00");
  const messages = await officer.get("/payments/messages");
  expect(messages.text).toContain("bank details changed");

  // A confirmation page reviewed before the change is stale: refused, nothing more changed.
  page = await editor.get(path());
  const stale = renderedForm(review.text, "bank-details-confirm");
  const refused = await editor
    .post(path())
    .type("form")
    .send({ ...stale, request_id: renderedForm(page.text, "bank-details-form").request_id });
  expect(refused.status).toBe(400);
  expect(refused.text).toContain("were changed by someone else after you reviewed them");
  expect(await s.p.db.organisationBankChange.count()).toBe(1);

  // The history shows who changed what, and when.
  const history = await viewer.get("/payments/settlement-history");
  const changesTable = /<table[^>]*id="bank-changes">[\s\S]*?<\/table>/.exec(history.text)![0];
  expect(changesTable).toContain("Fiona");
  expect(changesTable).toContain("BSB: 062-001 → <strong>083-004</strong>");
  expect(changesTable).toContain("Cleared the flag");

  // The next settlement's bank file pays the new account, under the new name, keeping the new minimum.
  await bookForClub(s.p, club.id, 20_000n);
  const balance = (await s.p.db.account.findUniqueOrThrow({ where: { organisationId: club.id } })).balanceCents;
  const next = await settle(day(0));
  const rec = detailRecord((await editor.get(`/payments/settlement-bank-file/${next}`)).text);
  expect(rec).toMatchObject({ bsb: "083-004", account: "  7654321", name: "HARBOUR BC INC" });
  const settled = await s.p.db.settlement.findFirstOrThrow({ where: { batchId: next } });
  expect(settled.grossCents).toBe(balance - 15_000n);
  expect(settled).toMatchObject({ bsb: "083004", accountNumber: "7654321", accountName: "Harbour BC Inc" });
});

test("only finance editors may see or send the form", async () => {
  for (const agent of [officer, officerB, viewer]) {
    expect((await agent.get(path())).status).toBe(403);
    const res = await agent
      .post(path())
      .type("form")
      .send({
        _csrf: await csrfToken(agent, "/dashboard"),
        step: "review",
        bsb: "083-004",
        account: "12345",
        min_balance: "0",
      });
    expect(res.status).toBe(403);
  }
  expect((await editor.get("/payments/org-bank-details/999999")).status).toBe(404);
});

test("CLI update-org: the same rules and service; recorded as the operator's", async () => {
  const run = (...argv: string[]) => runAdmin(["update-org", ...argv], s.p.db, s.p.pool);
  const before = await orgText();
  await expect(run("--org", club.clubNumber, "--bsb", "12-345")).rejects.toThrow(
    /BSB must be six digits written NNN-NNN/,
  );
  await expect(run("--org", club.clubNumber, "--account", "12a45")).rejects.toThrow(AppError);
  await expect(run("--org", club.clubNumber)).rejects.toThrow(/Give at least one of/);
  await expect(run("--org", "NOPE", "--bsb", "083-004")).rejects.toThrow(/No organisation with club number/);
  expect(await orgText()).toBe(before);

  const out = await run("--org", club.clubNumber, "--account", "55512345", "--min-balance", "75.00");
  expect(out).toContain("Account number 7654321 -> 55512345");
  expect(out).toContain("Minimum balance after settlement $150.00 -> $75.00");
  expect(await org()).toMatchObject({
    bankAccount: "55512345",
    minBalanceAfterSettlementCents: 7_500n,
    bankBsb: "083004",
  });
  const history = await viewer.get("/payments/settlement-history");
  expect(history.text).toContain("Operator (command line)");
  const cli = await s.p.pool.query<{ actor_label: string }>(
    "SELECT actor_label FROM audit_events WHERE action = 'org.bank_details' ORDER BY id DESC LIMIT 1",
  );
  expect(cli.rows[0]!.actor_label).toMatch(/^cli:/);
  await expect(run("--org", club.clubNumber, "--account", "55512345")).rejects.toThrow(/Nothing to change/);
});
