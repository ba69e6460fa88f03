// The audit trail's second part (issue 18 item 2, the actions built beside it): two-factor enrolment, switching it
// off and the operators' reset; a finance editor signing out every session of a user; a settlement batch's life
// (each bank file download, submitted, paid, a line returned); the accounting mapping and exports; the CLI's
// create-user, create-org and reset-password; a webhook endpoint's secret revealed and a delivery re-sent. Each is
// done through its real page with the form as rendered (or the CLI) and writes one row; a refused or replayed one
// writes none; and where the database refuses the row, the action itself does not happen (one transaction).
import { parse } from "csv-parse/sync";
import type TestAgent from "supertest/lib/agent";
import { runAdmin } from "../../src/cli/admin";
import { AUDITED_ACTIONS } from "../../src/services/audit/actions";
import { codeForStep, stepAt } from "../../src/services/two-factor/totp";
import { csrfFrom, makeClub, makeUser, signIn } from "../helpers/app";
import { auditRows, bySignedIn, withAuditWriteFailing } from "../helpers/audit-rows";
import { type CardStack, startCardStack } from "../helpers/card-stack";
import { renderedForm as formById } from "../helpers/forms";
import { key, violations } from "../helpers/payments";
import { renderedForm } from "../helpers/rendered-form";
import { clubWithHistory, setDirectEntry, settleThroughPage } from "../helpers/settlement";
import { submitForm } from "../helpers/staff-forms";

let s: CardStack;
let finance: { id: number; email: string; systemNumber: number };
let editor: TestAgent;
const rows = () => auditRows(s.p.db);
const byFinance = (action: string, targetType: string, targetId: string | number) =>
  bySignedIn(finance, "Fiona")(action, targetType, targetId);
const cli = (...argv: string[]) => runAdmin(argv, s.p.db);
const today = () => new Intl.DateTimeFormat("en-CA", { timeZone: "Australia/Sydney" }).format(new Date());

beforeAll(async () => {
  s = await startCardStack();
  finance = await makeUser(s.p.db, { level: "EDIT", firstName: "Fiona" });
  editor = (await signIn(s.app, finance.email)).agent;
  await setDirectEntry(s.p.db);
});
afterAll(() => s.close());
afterEach(async () => expect(await violations(s.p)).toEqual([]));

describe("two-factor sign-in and sessions", () => {
  test("enrolment and switching it off through the account page: one row each; wrong codes none", async () => {
    const m = await makeUser(s.p.db, { firstName: "Mona" });
    const agent = (await signIn(s.app, m.email)).agent;
    const page = await agent.get("/account/two-factor");
    const secret = /data-secret="([A-Z2-7]+)"/.exec(page.text)![1]!;
    const form = renderedForm(page.text, "/account/two-factor");
    const step = stepAt(Date.now());
    const count = await rows().count();
    expect(
      (
        await agent
          .post("/account/two-factor")
          .type("form")
          .send({ ...form, code: codeForStep(secret, step + 5) })
      ).status,
    ).toBe(400);
    expect(await rows().count()).toBe(count);
    const enrolled = await rows().during(async () => {
      const res = await agent
        .post("/account/two-factor")
        .type("form")
        .send({ ...form, code: codeForStep(secret, step) });
      expect(res.status).toBe(200);
    });
    expect(enrolled).toEqual([expect.objectContaining(bySignedIn(m, "Mona")("two_factor.enrol", "user", m.id))]);

    const on = await agent.get("/account/two-factor");
    const off = renderedForm(on.text, "/account/two-factor/disable");
    const wrong = await agent
      .post("/account/two-factor/disable")
      .type("form")
      .send({ ...off, code: codeForStep(secret, step + 5) });
    expect(wrong.status).toBe(400);
    expect(await rows().count()).toBe(count + 1);
    const disabled = await rows().during(() =>
      agent
        .post("/account/two-factor/disable")
        .type("form")
        .send({ ...off, code: codeForStep(secret, step + 1) }),
    );
    expect(disabled).toEqual([expect.objectContaining(bySignedIn(m, "Mona")("two_factor.disable", "user", m.id))]);
    expect(await s.p.db.twoFactorSecret.count({ where: { userId: m.id } })).toBe(0);
  });

  test("the CLI's reset-2fa: one row as cli:<OS user>; an unknown user none; a refused row resets nothing", async () => {
    const u = await makeUser(s.p.db, { level: "EDIT" });
    const count = await rows().count();
    await expect(cli("reset-2fa", "--user", "nobody@example.test")).rejects.toThrow();
    expect(await rows().count()).toBe(count);
    await expect(
      withAuditWriteFailing(s.p.db, "two_factor.reset", () => cli("reset-2fa", "--user", u.email)),
    ).rejects.toThrow(/audit write failed/);
    expect(await s.p.db.twoFactorSecret.count({ where: { userId: u.id, enabledAt: { not: null } } })).toBe(1);
    const reset = await rows().during(() => cli("reset-2fa", "--user", u.email));
    expect(reset).toEqual([
      expect.objectContaining({
        action: "two_factor.reset",
        actorUserId: null,
        actorLabel: expect.stringMatching(/^cli:/),
        targetId: String(u.id),
        after: { had: true, sessions: 0 },
      }),
    ]);
    expect(await s.p.db.twoFactorSecret.count({ where: { userId: u.id } })).toBe(0);
  });

  test("a finance editor signs out every session of a member: one row, sessions and row together", async () => {
    const m = await makeUser(s.p.db);
    const member = (await signIn(s.app, m.email)).agent;
    const page = `/payments/statement-admin-view/${m.id}`;
    const action = `/payments/admin-sign-out-member/${m.id}`;
    // The database refusing the row: the member stays signed in.
    const failed = await withAuditWriteFailing(s.p.db, "session.sign_out_all", () => submitForm(editor, page, action));
    expect(failed.status).toBe(500);
    expect((await member.get("/dashboard")).status).toBe(200);

    const done = await rows().during(() => submitForm(editor, page, action));
    expect(done).toEqual([
      expect.objectContaining({ ...byFinance("session.sign_out_all", "user", m.id), after: { sessions: 1 } }),
    ]);
    expect((await member.get("/dashboard")).status).toBe(302);
    // Refused: an unknown member, or the editor themself.
    const token = csrfFrom((await editor.get(page)).text);
    const count = await rows().count();
    expect(
      (await editor.post("/payments/admin-sign-out-member/99999999").type("form").send({ _csrf: token })).status,
    ).toBe(404);
    const self = await editor.post(`/payments/admin-sign-out-member/${finance.id}`).type("form").send({ _csrf: token });
    expect(self.status).toBe(400);
    expect(await rows().count()).toBe(count);
  });
});

describe("a settlement batch's life", () => {
  /** A form of the batch page as rendered (posting to `to`), its confirm box ticked unless `tick` is false. */
  async function step(batchId: number, form: string, to: string, fill: Record<string, string> = {}, tick = true) {
    const page = await editor.get(`/payments/settlement-batch/${batchId}`);
    const body = { ...formById(page.text, form), ...fill, ...(tick ? { confirm: "on" } : {}) };
    return () => editor.post(`/payments/settlement-batch/${batchId}/${to}`).type("form").send(body);
  }
  const statusOf = async (id: number) => (await s.p.db.settlementBatch.findUniqueOrThrow({ where: { id } })).status;

  test("each download one row, written with the batch's status; submitted, a line returned, paid: one row each", async () => {
    const day = `${today()}T00:30:00+11:00`;
    const a = await clubWithHistory(s.p, [[day, 40_000n]], { name: "Audit A" });
    const b = await clubWithHistory(s.p, [[day, 30_000n]], { name: "Audit B" });
    const batchId = await settleThroughPage(editor, today(), [a.id, b.id]);
    const file = `/payments/settlement-bank-file/${batchId}`;

    // The row refused: the download fails and the batch stays "created" (status and row in one transaction).
    const failed = await withAuditWriteFailing(s.p.db, "settlement.bank_file", () => editor.get(file));
    expect(failed.status).toBe(500);
    expect(await statusOf(batchId)).toBe("CREATED");

    const first = await rows().during(() => editor.get(file));
    const second = await rows().during(() => editor.get(file));
    expect([...first, ...second]).toEqual([
      expect.objectContaining(byFinance("settlement.bank_file", "settlement_batch", batchId)),
      expect.objectContaining(byFinance("settlement.bank_file", "settlement_batch", batchId)),
    ]);
    expect(first[0]!.after).toMatchObject({ first: true, clubs: 2, file: expect.stringMatching(/\.aba$/) });
    expect(second[0]!.after).toMatchObject({ first: false });
    expect(await statusOf(batchId)).toBe("DOWNLOADED");

    // Unconfirmed (box not ticked): refused, no row.
    const count = await rows().count();
    expect((await (await step(batchId, "submitted-form", "submitted", {}, false))()).status).toBe(400);
    expect(await rows().count()).toBe(count);
    const submitted = await step(batchId, "submitted-form", "submitted");
    expect(await rows().during(submitted)).toEqual([
      expect.objectContaining(byFinance("settlement.submitted", "settlement_batch", batchId)),
    ]);
    // The same form again: "already done", no row.
    expect(await rows().during(submitted)).toEqual([]);

    const line = await s.p.db.settlement.findFirstOrThrow({ where: { batchId, organisationId: b.id } });
    const returned = await rows().during(async () =>
      (await step(batchId, `return-${line.id}`, "return", { reason: "Account closed" }))(),
    );
    expect(returned).toEqual([
      expect.objectContaining({
        ...byFinance("settlement.line_returned", "settlement_batch", batchId),
        organisationId: b.id,
        after: expect.objectContaining({ settlementId: line.id, reason: "Account closed" }),
      }),
    ]);

    const paid = await step(batchId, "paid-form", "paid");
    const paidRows = await rows().during(paid);
    const batch = await s.p.db.settlementBatch.findUniqueOrThrow({ where: { id: batchId } });
    expect(batch.status).toBe("PAID");
    expect(paidRows).toEqual([
      expect.objectContaining({
        ...byFinance("settlement.paid", "settlement_batch", batchId),
        after: expect.objectContaining({ paidCents: String(batch.netCents - line.netCents) }),
      }),
    ]);
    expect(await rows().during(paid)).toEqual([]);
  });
});

describe("accounting export", () => {
  test("a mapping saved: before and after; bad input none", async () => {
    const page = await editor.get("/payments/accounting-mapping");
    const form = { ...formById(page.text, "mapping-form"), ledger_account: "MEMBER", transaction_type: "*" };
    const old = await s.p.db.accountingMapping.findFirstOrThrow({
      where: { ledgerAccount: "MEMBER", transactionType: "*" },
    });
    const count = await rows().count();
    const bad = await editor
      .post("/payments/accounting-mapping")
      .type("form")
      .send({ ...form, account_code: "no spaces" });
    expect(bad.status).toBe(400);
    expect(await rows().count()).toBe(count);
    const saved = await rows().during(() =>
      editor
        .post("/payments/accounting-mapping")
        .type("form")
        .send({ ...form, account_code: "1299" }),
    );
    expect(saved).toEqual([
      expect.objectContaining({
        ...byFinance("accounting.mapping_save", "accounting_mapping", old.id),
        before: expect.objectContaining({ accountCode: old.accountCode }),
        after: expect.objectContaining({ accountCode: "1299", ledgerAccount: "MEMBER" }),
      }),
    ]);
  });

  test("an export and an explicit export again: one row each; the same form again, or an overlap unasked, none", async () => {
    const m = await makeUser(s.p.db);
    for (const at of ["2025-03-10T12:00:00+11:00", "2025-04-02T12:00:00+11:00"]) {
      const r = await s.p.ledger.post({
        idempotencyKey: key("acct"),
        type: "Manual Adjustment",
        description: "Export audit",
        at: new Date(at),
        entries: [
          { userId: m.id, amountCents: 1_000n, counterparty: 1 },
          { system: "ADJUSTMENTS", amountCents: -1_000n, counterparty: 0 },
        ],
      });
      expect(r.status).toBe("POSTED");
    }
    const exportForm = async (from: string, to: string) => {
      const page = await editor.get(`/payments/accounting-export?from=${from}&to=${to}`);
      return { ...formById(page.text, "export-form"), what: "xero-journal" };
    };
    const send = (form: Record<string, string>) => editor.post("/payments/accounting-export").type("form").send(form);

    // The row refused: nothing is exported or recorded as exported.
    const march = await exportForm("2025-03-01", "2025-03-31");
    const exports = await s.p.db.accountingExport.count();
    expect((await withAuditWriteFailing(s.p.db, "accounting.export", () => send(march))).status).toBe(500);
    expect(await s.p.db.accountingExport.count()).toBe(exports);

    const first = await rows().during(async () => expect((await send(march)).status).toBe(200));
    const made = await s.p.db.accountingExport.findFirstOrThrow({ orderBy: { id: "desc" } });
    expect(first).toEqual([
      expect.objectContaining({
        ...byFinance("accounting.export", "accounting_export", made.id),
        after: expect.objectContaining({ kind: "JOURNAL", format: "xero-journal", from: "2025-03-01", lineCount: 2 }),
      }),
    ]);
    expect(await rows().during(() => send(march))).toEqual([]);

    const overlap = await exportForm("2025-03-15", "2025-04-15");
    let refused = "";
    expect(
      await rows().during(async () => {
        const res = await send(overlap);
        expect(res.status).toBe(400);
        refused = res.text;
      }),
    ).toEqual([]);
    const again = await rows().during(() =>
      send({ ...formById(refused, "export-form"), what: "xero-journal", reexport: "on" }),
    );
    const remade = await s.p.db.accountingExport.findFirstOrThrow({ orderBy: { id: "desc" } });
    expect(again).toEqual([
      expect.objectContaining({
        ...byFinance("accounting.reexport", "accounting_export", remade.id),
        after: expect.objectContaining({ exportedBefore: [made.id], from: "2025-03-15", to: "2025-04-15" }),
      }),
    ]);
  });
});

describe("the CLI and webhook endpoints", () => {
  test("create-user, create-org and reset-password as cli:<OS user>, never a password; refused ones none", async () => {
    const n = String(880000 + (process.pid % 10000));
    const email = `cli${n}@example.test`;
    const made = await rows().during(async () => {
      await cli("create-user", "--system-number", n, "--first-name", "Cleo", "--last-name", "Line", "--email", email);
      await cli("create-org", "--club-number", `C${n}`, "--name", "CLI Club");
      await cli("reset-password", "--user", email, "--password", "a-new-long-password-1");
    });
    const user = await s.p.db.user.findUniqueOrThrow({ where: { email } });
    const org = await s.p.db.organisation.findUniqueOrThrow({ where: { clubNumber: `C${n}` } });
    expect(
      made.map((r) => [r.action, r.actorUserId, r.actorLabel.startsWith("cli:"), r.targetId, r.organisationId]),
    ).toEqual([
      ["user.create", null, true, String(user.id), null],
      ["organisation.create", null, true, String(org.id), org.id],
      ["user.reset_password", null, true, String(user.id), null],
    ]);
    expect(made[0]!.after).toMatchObject({ email, systemNumber: Number(n), firstName: "Cleo" });
    expect(JSON.stringify(made.map((r) => [r.before, r.after]))).not.toMatch(
      /a-new-long-password-1|passwordHash|argon|\$2[aby]\$/,
    );

    const count = await rows().count();
    await expect(
      cli(
        "create-user",
        "--system-number",
        n,
        "--first-name",
        "X",
        "--last-name",
        "Y",
        "--email",
        "other@example.test",
      ),
    ).rejects.toThrow(/already registered/);
    await expect(cli("create-org", "--club-number", `C${n}`, "--name", "Again")).rejects.toThrow(/already used/);
    await expect(cli("reset-password", "--user", email, "--password", "short")).rejects.toThrow();
    expect(await rows().count()).toBe(count);
  });

  test("a webhook endpoint's secret shown on request and a delivery re-sent: one row each, never the secret", async () => {
    const club = await makeClub(s.p.db, "Hooked");
    const created = await submitForm(editor, "/payments/webhooks", "/payments/webhooks", {
      organisation: String(club.id),
      url: "http://93.184.216.34/audit-hooks",
      events: "charge.succeeded",
    });
    expect(created.status).toBe(201);
    const e = await s.p.db.webhookEndpoint.findFirstOrThrow({ where: { organisationId: club.id } });
    const page = `/payments/webhooks/${e.id}`;
    const shown = await rows().during(async () => {
      const res = await submitForm(editor, page, `${page}/secret`);
      expect(res.text).toContain(e.secret);
    });
    expect(shown).toEqual([
      expect.objectContaining({
        ...byFinance("webhook_endpoint.reveal_secret", "webhook_endpoint", e.id),
        organisationId: club.id,
      }),
    ]);
    expect(JSON.stringify(shown.map((r) => [r.before, r.after]))).not.toContain(e.secret);
    // Another club's officer asking for it: not found, no row.
    const other = await makeClub(s.p.db, "Other");
    const officer = (await signIn(s.app, (await makeUser(s.p.db, { level: "EDIT", orgId: other.id })).email)).agent;
    const token = csrfFrom((await officer.get("/payments/webhooks")).text);
    const count = await rows().count();
    expect((await officer.post(`${page}/secret`).type("form").send({ _csrf: token })).status).toBe(404);
    expect(await rows().count()).toBe(count);

    // A failed delivery (made here as the dispatcher would have) re-sent from the endpoint's page.
    const event = await s.p.db.outboundEvent.create({
      data: { publicId: `evt_${key("audit")}`, type: "charge.succeeded", organisationId: club.id, payload: {} },
    });
    const d = await s.p.db.webhookDelivery.create({
      data: { eventId: event.id, endpointId: e.id, status: "failed", attempts: 8 },
    });
    const resent = await rows().during(() => submitForm(editor, page, `/payments/webhooks/deliveries/${d.id}/resend`));
    expect(resent).toEqual([
      expect.objectContaining({
        ...byFinance("webhook_delivery.resend", "webhook_delivery", String(d.id)),
        organisationId: club.id,
        before: { status: "failed", attempts: 8 },
      }),
    ]);
    expect(
      (await officer.post(`/payments/webhooks/deliveries/${d.id}/resend`).type("form").send({ _csrf: token })).status,
    ).toBe(404);
    expect(await rows().count()).toBe(count + 1);
  });
});

describe("the audit page", () => {
  test("its action filter offers every family and action, before any row of them exists, and filters by family", async () => {
    const club = await makeClub(s.p.db, "Quiet");
    const officer = (await signIn(s.app, (await makeUser(s.p.db, { level: "VIEW", orgId: club.id })).email)).agent;
    const html = (await officer.get("/payments/audit")).text;
    expect(html).toContain("No audit rows match.");
    const options = [...html.matchAll(/<option value="([^"]*)"/g)].map((m) => m[1]);
    for (const family of [
      "two_factor",
      "session",
      "settlement",
      "accounting",
      "user",
      "organisation",
      "webhook_delivery",
    ]) {
      expect(options).toContain(family);
    }
    for (const action of AUDITED_ACTIONS) expect(options).toContain(action);

    const form = renderedForm((await editor.get("/payments/audit")).text, "/payments/audit");
    const csv = await editor.get("/payments/audit").query({ ...form, action: "two_factor", format: "csv" });
    const actions = new Set((parse(csv.text) as string[][]).slice(1).map((r) => r[3]));
    expect([...actions].sort()).toEqual(["two_factor.disable", "two_factor.enrol", "two_factor.reset"]);
  });

  test("every action this file recorded is in the page's list (docs/audit.md)", async () => {
    const recorded = await s.p.db.auditEvent.findMany({ distinct: ["action"], select: { action: true } });
    expect(recorded.length).toBeGreaterThan(10);
    for (const { action } of recorded) expect(AUDITED_ACTIONS).toContain(action);
  });
});
