// The audit trail (issue 18 item 2): every listed staff action, done through its real page with the form as
// rendered (or the operators' CLI), writes exactly one row of its own — who, action, target, before/after, request
// id, client address — and a refused action writes none. The database itself refuses to change or delete a row,
// through the app's own connection.
import { runAdmin } from "../../src/cli/admin";
import type TestAgent from "supertest/lib/agent";
import { getBalance } from "../../src/services/payments/balances";
import { csrfFrom, makeClub, makeUser, signIn } from "../helpers/app";
import { auditRows, bySignedIn } from "../helpers/audit-rows";
import {
  type CardStack,
  checkoutWithCharge,
  failedStripeEvent,
  paidWithWebhookHeld,
  startCardStack,
  topUpByCard,
} from "../helpers/card-stack";
import { renderedForm as formById, renderedInputs } from "../helpers/forms";
import { fundMember, fundOrganisation, violations } from "../helpers/payments";
import { renderedForm } from "../helpers/rendered-form";
import { setDirectEntry } from "../helpers/settlement";
import { adjustMember, adjustOrg, reviewAndConfirm, submitForm } from "../helpers/staff-forms";

let s: CardStack;
let finance: { id: number; email: string; systemNumber: number };
let editor: TestAgent;

beforeAll(async () => {
  s = await startCardStack();
  finance = await makeUser(s.p.db, { level: "EDIT", firstName: "Fiona" });
  editor = (await signIn(s.app, finance.email)).agent;
  await setDirectEntry(s.p.db);
});
afterAll(() => s.close());
afterEach(async () => expect(await violations(s.p)).toEqual([]));

const audit = () => auditRows(s.p.db);
const rowsCount = () => audit().count();
const rowsDuring = (fn: () => Promise<unknown>) => audit().during(fn);
/** A row by the signed-in editor: their id, this request's id and the loopback address. */
const byFinance = (action: string, targetType: string, targetId: string | number) =>
  bySignedIn(finance, "Fiona")(action, targetType, targetId);

describe("adjustments, settlements and refunds", () => {
  test("member adjustment: one row; refused ones (zero, own balance) none", async () => {
    const m = await makeUser(s.p.db);
    const rows = await rowsDuring(() => adjustMember(editor, m.systemNumber, "-12.50"));
    expect(rows).toEqual([expect.objectContaining(byFinance("adjustment.member", "user", m.id))]);
    expect(rows[0]!.after).toMatchObject({
      amountCents: "-1250",
      description: "Correction",
      balanceAfterCents: "-1250",
    });
    const count = await rowsCount();
    expect((await adjustMember(editor, m.systemNumber, "0")).status).toBe(400);
    expect((await adjustMember(editor, finance.systemNumber, "5")).status).toBe(400);
    expect(await rowsCount()).toBe(count);
  });

  test("club adjustment and a settlement recorded by hand; an overdrawing settlement none", async () => {
    const club = await makeClub(s.p.db, "Audit");
    const adj = await rowsDuring(() => adjustOrg(editor, club.id, "100.00"));
    expect(adj).toEqual([
      expect.objectContaining({ ...byFinance("adjustment.org", "organisation", club.id), organisationId: club.id }),
    ]);
    const settle = await rowsDuring(() => adjustOrg(editor, club.id, "-40.00", "Settlement"));
    expect(settle).toEqual([expect.objectContaining(byFinance("settlement.manual", "organisation", club.id))]);
    const count = await rowsCount();
    expect((await adjustOrg(editor, club.id, "-400.00", "Settlement")).status).toBe(400);
    expect(await rowsCount()).toBe(count);
  });

  test("admin refund: one row; a refund of more than was paid none", async () => {
    const m = await makeUser(s.p.db);
    const cardId = await topUpByCard(s, m.id, 5_000n);
    const page = `/payments/admin-refund-stripe-transaction/${cardId}`;
    const count = await rowsCount();
    expect((await reviewAndConfirm(editor, page, page, { amount: "60.00" })).status).toBe(400);
    expect(await rowsCount()).toBe(count);
    const rows = await rowsDuring(() => reviewAndConfirm(editor, page, page, { amount: "20.00" }));
    expect(rows).toEqual([expect.objectContaining(byFinance("refund.admin", "card_payment", cardId))]);
    expect(rows[0]!.after).toMatchObject({ creditsCents: "2000", memberUserId: m.id });
  });

  test("settlement confirmation (batch and per-club rows) and the bank file download", async () => {
    const club = await makeClub(s.p.db, "Settled");
    await s.p.db.organisation.update({ where: { id: club.id }, data: { bankBsb: "062000", bankAccount: "11112222" } });
    await fundOrganisation(s.p, club.id, 30_000n, finance.id);
    const tomorrow = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
    const page = await editor.get(`/payments/settlement?reference_date=${tomorrow}`);
    const box = renderedInputs(page.text, "settlement-form").find((i) => i.name === `org_${club.id}`)!;
    expect(box.disabled).toBe(false);
    const form = { ...formById(page.text, "settlement-form"), [box.name]: "on", action: "confirm" };
    const rows = await rowsDuring(async () => {
      const res = await editor.post("/payments/settlement").type("form").send(form);
      expect(/alert-danger[^<]*</.exec(res.text)?.[0] ?? res.status).toBe(302);
    });
    const batch = await s.p.db.settlementBatch.findFirstOrThrow({ orderBy: { id: "desc" } });
    expect(rows).toEqual([
      expect.objectContaining(byFinance("settlement.confirm", "settlement_batch", batch.id)),
      expect.objectContaining({ action: "settlement.club", organisationId: club.id }),
    ]);
    // The same form again: the batch is shown, nothing new recorded.
    expect(await rowsDuring(() => editor.post("/payments/settlement").type("form").send(form))).toEqual([]);
    const file = await rowsDuring(() => editor.get(`/payments/settlement-bank-file/${batch.id}`));
    expect(file).toEqual([expect.objectContaining(byFinance("settlement.bank_file", "settlement_batch", batch.id))]);
  });
});

describe("settings, overrides, keys, endpoints", () => {
  test("payment settings: the version before and after; a bad value none", async () => {
    const page = "/payments/admin-payments-static";
    const count = await rowsCount();
    expect((await submitForm(editor, page, page, { refundWindowWeeks: "many" })).status).toBe(400);
    expect(await rowsCount()).toBe(count);
    const rows = await rowsDuring(() => submitForm(editor, page, page, { refundWindowWeeks: "9" }));
    const saved = await s.p.db.paymentSettings.findFirstOrThrow({ orderBy: { id: "desc" } });
    expect(rows).toEqual([expect.objectContaining(byFinance("settings.save", "payment_settings", saved.id))]);
    expect((rows[0]!.before as { refundWindowWeeks: number }).refundWindowWeeks).not.toBe(9);
    expect(rows[0]!.after).toMatchObject({ refundWindowWeeks: 9, approvalThresholdCents: "50000" });
  });

  test("fee override added and deleted; a bad fee none", async () => {
    const club = await makeClub(s.p.db, "Fees");
    const add = "/payments/admin-payments-static-org-override-add";
    const count = await rowsCount();
    expect((await submitForm(editor, add, add, { organisation: String(club.id), fee: "lots" })).status).toBe(400);
    expect(await rowsCount()).toBe(count);
    const added = await rowsDuring(() => submitForm(editor, add, add, { organisation: String(club.id), fee: "1.5" }));
    expect(added).toEqual([expect.objectContaining({ action: "fee_override.add", organisationId: club.id })]);
    const o = await s.p.db.organisationFeeOverride.findUniqueOrThrow({ where: { organisationId: club.id } });
    const del = `/payments/admin-payments-static-org-override-delete/${o.id}`;
    const deleted = await rowsDuring(() => submitForm(editor, del, del));
    expect(deleted).toEqual([
      expect.objectContaining({
        ...byFinance("fee_override.delete", "fee_override", o.id),
        before: { feePpm: 15_000 },
      }),
    ]);
  });

  test("API key created and revoked (the secret never recorded); a key already expired none", async () => {
    const count = await rowsCount();
    const refused = await submitForm(editor, "/payments/api-keys", "/payments/api-keys", {
      name: "Too late",
      scopes: "charges:write",
      expires: "2001-01-01",
    });
    expect(refused.status).toBe(400);
    expect(await rowsCount()).toBe(count);
    let secret = "";
    const made = await rowsDuring(async () => {
      const res = await submitForm(editor, "/payments/api-keys", "/payments/api-keys", {
        name: "Scoring",
        scopes: "charges:write",
      });
      secret = /<code id="api-key-secret">([^<]+)<\/code>/.exec(res.text)![1]!;
    });
    const k = await s.p.db.apiKey.findFirstOrThrow({ where: { name: "Scoring" } });
    expect(made).toEqual([expect.objectContaining(byFinance("api_key.create", "api_key", k.id))]);
    expect(JSON.stringify([made[0]!.before, made[0]!.after])).not.toContain(secret.slice(12));
    const revoke = `/payments/api-keys/${k.id}/revoke`;
    const revoked = await rowsDuring(() => submitForm(editor, "/payments/api-keys", revoke));
    expect(revoked).toEqual([expect.objectContaining(byFinance("api_key.revoke", "api_key", k.id))]);
  });

  test("webhook endpoint added, disabled and deleted by a club officer, scoped to the club", async () => {
    const club = await makeClub(s.p.db, "Hooks");
    const officer = await makeUser(s.p.db, { level: "EDIT", orgId: club.id });
    const agent = (await signIn(s.app, officer.email)).agent;
    const count = await rowsCount();
    const bad = await submitForm(agent, "/payments/webhooks", "/payments/webhooks", {
      organisation: String(club.id),
      url: "http://127.0.0.1/private",
      events: "charge.succeeded",
    });
    expect(bad.status).toBe(400);
    expect(await rowsCount()).toBe(count);
    const added = await rowsDuring(() =>
      submitForm(agent, "/payments/webhooks", "/payments/webhooks", {
        organisation: String(club.id),
        url: "http://93.184.216.34/bridge-hooks",
        events: "charge.succeeded",
      }),
    );
    const e = await s.p.db.webhookEndpoint.findFirstOrThrow({ where: { organisationId: club.id } });
    expect(added).toEqual([
      expect.objectContaining({ action: "webhook_endpoint.create", actorUserId: officer.id, organisationId: club.id }),
    ]);
    const page = `/payments/webhooks/${e.id}`;
    const disabled = await rowsDuring(() => submitForm(agent, page, `${page}/disable`));
    expect(disabled).toEqual([
      expect.objectContaining({ action: "webhook_endpoint.disable", after: { enabled: false } }),
    ]);
    const deleted = await rowsDuring(() => submitForm(agent, `${page}/delete`, `${page}/delete`));
    expect(deleted).toEqual([expect.objectContaining({ action: "webhook_endpoint.delete", targetId: String(e.id) })]);
  });
});

describe("Stripe repairs, exports, session charges, the CLI", () => {
  test("a Stripe repair that books, and a webhook re-apply", async () => {
    const m = await makeUser(s.p.db);
    const card = await paidWithWebhookHeld(s, m.id, 9_000n);
    const repaired = await rowsDuring(() =>
      submitForm(editor, "/payments/stripe-pending", `/payments/stripe-pending/check/${card.id}`),
    );
    expect(await getBalance(s.p, m.id)).toBe(9_000n);
    expect(repaired).toEqual([expect.objectContaining(byFinance("stripe.repair", "card_payment", card.id))]);
    s.emulator.webhooks.release({ copies: 1 });

    const { charge } = await checkoutWithCharge(s, 4_000n);
    const id = await failedStripeEvent(s, charge);
    const page = `/payments/admin-stripe-events/${id}`;
    const reapplied = await rowsDuring(() => submitForm(editor, page, `${page}/reapply`));
    expect(reapplied).toEqual([expect.objectContaining(byFinance("stripe.reapply", "stripe_event", id))]);
    // Applied already (a second tab's button): nothing changes, nothing is recorded.
    const token = csrfFrom((await editor.get(page)).text);
    expect(await rowsDuring(() => editor.post(`${page}/reapply`).type("form").send({ _csrf: token }))).toEqual([]);
  });

  test("a member's statement CSV by finance and a club's by its officer are recorded; the member's own is not", async () => {
    const m = await makeUser(s.p.db);
    await fundMember(s.p, m.id, 1_000n, finance.id);
    const rows = await rowsDuring(() => editor.get(`/payments/statement-csv/${m.id}`));
    expect(rows).toEqual([expect.objectContaining(byFinance("export.download", "user", m.id))]);
    expect((rows[0]!.after as { file: string }).file).toMatch(/^statement-\d+-.*\.csv$/);
    const club = await makeClub(s.p.db, "Export");
    const officer = await makeUser(s.p.db, { level: "VIEW", orgId: club.id });
    const agent = (await signIn(s.app, officer.email)).agent;
    const clubRows = await rowsDuring(() => agent.get(`/payments/statement-csv-org/${club.id}`));
    expect(clubRows).toEqual([
      expect.objectContaining({ action: "export.download", actorUserId: officer.id, organisationId: club.id }),
    ]);
    const own = (await signIn(s.app, m.email)).agent;
    expect(await rowsDuring(() => own.get("/payments/statement-csv"))).toEqual([]);
  });

  test("a club's session charges confirmed", async () => {
    const club = await makeClub(s.p.db, "Session");
    const officer = await makeUser(s.p.db, { level: "EDIT", orgId: club.id });
    const agent = (await signIn(s.app, officer.email)).agent;
    const m = await makeUser(s.p.db);
    await fundMember(s.p, m.id, 5_000n, finance.id);
    const page = `/payments/club-session/${club.id}`;
    const shown = await submitForm(agent, page, `${page}/preview`, {
      rows: `${m.systemNumber},15`,
      description: "Table money",
    });
    expect(shown.status).toBe(200);
    const rows = await rowsDuring(() =>
      agent
        .post(`${page}/confirm`)
        .type("form")
        .send(renderedForm(shown.text, `${page}/confirm`)),
    );
    expect(rows).toEqual([
      expect.objectContaining({
        action: "session_charges.confirm",
        actorUserId: officer.id,
        organisationId: club.id,
        after: expect.objectContaining({ rows: 1, paid: 1, totalCents: "1500" }),
      }),
    ]);
  });

  test("the CLI's role grants, revocations and (de)activation, as cli:<OS user>; a refused grant none", async () => {
    const u = await makeUser(s.p.db);
    const run = (...argv: string[]) => runAdmin(argv, s.p.db);
    const count = await rowsCount();
    await expect(run("grant-role", "--user", String(u.systemNumber), "--level", "admin")).rejects.toThrow();
    await expect(run("revoke-role", "--user", String(u.systemNumber))).rejects.toThrow();
    expect(await rowsCount()).toBe(count);
    const rows = await rowsDuring(async () => {
      await run("grant-role", "--user", String(u.systemNumber), "--level", "view");
      await run("grant-role", "--user", String(u.systemNumber), "--level", "edit");
      await run("revoke-role", "--user", String(u.systemNumber));
      await run("deactivate-user", "--user", String(u.systemNumber));
      await run("activate-user", "--user", String(u.systemNumber));
    });
    expect(rows.map((r) => [r.action, r.actorUserId, r.actorLabel.startsWith("cli:"), r.targetId])).toEqual([
      ["role.grant", null, true, String(u.id)],
      ["role.grant", null, true, String(u.id)],
      ["role.revoke", null, true, String(u.id)],
      ["user.deactivate", null, true, String(u.id)],
      ["user.activate", null, true, String(u.id)],
    ]);
    expect(rows[1]).toMatchObject({ before: { level: "VIEW" }, after: { level: "EDIT" } });
  });
});

test("the database refuses to change, delete or empty audit rows, through the app's own connection", async () => {
  const m = await makeUser(s.p.db);
  await adjustMember(editor, m.systemNumber, "1.00");
  const row = await s.p.db.auditEvent.findFirstOrThrow({ orderBy: { id: "desc" } });
  await expect(
    s.p.db.auditEvent.update({ where: { id: row.id }, data: { actorLabel: "someone else" } }),
  ).rejects.toThrow(/append-only/);
  await expect(s.p.db.auditEvent.delete({ where: { id: row.id } })).rejects.toThrow(/append-only/);
  await expect(s.p.pool.query("DELETE FROM audit_events")).rejects.toThrow(/append-only: DELETE/);
  await expect(s.p.pool.query("TRUNCATE audit_events")).rejects.toThrow(/append-only: TRUNCATE/);
  await expect(s.p.pool.query("UPDATE audit_events SET after = NULL")).rejects.toThrow(/append-only: UPDATE/);
  expect(await s.p.db.auditEvent.findUniqueOrThrow({ where: { id: row.id } })).toEqual(row);
});
