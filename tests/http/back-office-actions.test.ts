// What finance staff and club officers do: adjustments with their confirmation step, a settlement recorded by hand,
// settings versions and fee overrides, club transfers, admin refunds, the webhook inbox's re-apply; CSVs parsed
// back against the ledger; invariants intact after each.
import { parse } from "csv-parse/sync";
import type TestAgent from "supertest/lib/agent";
import { getBalance } from "../../src/services/payments/balances";
import { csrfToken, makeClub, makeUser, signIn } from "../helpers/app";
import {
  type CardStack,
  checkoutWithCharge,
  failedStripeEvent,
  startCardStack,
  topUpByCard,
} from "../helpers/card-stack";
import { renderedForm } from "../helpers/forms";
import { fundMember, fundOrganisation, key, violations } from "../helpers/payments";

let s: CardStack;
let editor: TestAgent;
let token: string;
let finance: { id: number; email: string; firstName: string; lastName: string };
let officer: TestAgent;
let officerToken: string;
let club: { id: number; name: string; clubNumber: string };

beforeAll(async () => {
  s = await startCardStack();
  finance = await makeUser(s.p.db, { level: "EDIT", firstName: "Fiona" });
  editor = (await signIn(s.app, finance.email)).agent;
  token = await csrfToken(editor, "/dashboard");
  club = await makeClub(s.p.db, "Harbour");
  const off = await makeUser(s.p.db, { level: "EDIT", orgId: club.id });
  officer = (await signIn(s.app, off.email)).agent;
  officerToken = await csrfToken(officer, "/dashboard");
  // This file tests the direct path: moves here stay under the second-approval threshold (approvals.test.ts).
  const current = await s.p.db.paymentSettings.findFirstOrThrow({ orderBy: { id: "desc" } });
  await s.p.db.paymentSettings.update({ where: { id: current.id }, data: { approvalThresholdCents: 500_000n } });
});
afterAll(() => s.close());
afterEach(async () => expect(await violations(s.p)).toEqual([]));

const text = (res: { body: unknown; text?: string }) => (typeof res.body === "string" ? res.body : (res.text ?? ""));
const csv = (body: string) => parse(body, { relax_column_count: true }) as string[][];
const postings = () => s.p.db.posting.count();

describe("member adjustment", () => {
  test("review shows the balance after; confirming twice books once", async () => {
    const m = await makeUser(s.p.db);
    const form = {
      _csrf: token,
      member: String(m.systemNumber),
      amount: "-12.50",
      description: "Correction",
      request_id: `r-${key()}`,
    };
    const review = await editor
      .post("/payments/manual-adjust-member")
      .type("form")
      .send({ ...form, step: "review" });
    expect(review.status).toBe(200);
    expect(review.text).toContain("-$12.50");
    expect(review.text).toContain("below zero");
    const before = await postings();
    const done = await editor
      .post("/payments/manual-adjust-member")
      .type("form")
      .send({ ...form, step: "confirm" });
    await editor
      .post("/payments/manual-adjust-member")
      .type("form")
      .send({ ...form, step: "confirm" });
    expect(done.status).toBe(302);
    expect(done.headers.location).toBe(`/payments/statement-admin-view/${m.id}`);
    expect(await postings()).toBe(before + 1);
    expect(await getBalance(s.p, m.id)).toBe(-1_250n);
    const posting = await s.p.db.posting.findFirstOrThrow({ orderBy: { id: "desc" } });
    expect(posting).toMatchObject({ type: "Manual Adjustment", actorUserId: finance.id, allowOverdraft: true });
  });

  test("bad input is refused with a message and books nothing", async () => {
    const m = await makeUser(s.p.db);
    const before = await postings();
    const cases: [Record<string, string>, string][] = [
      [{ member: String(m.systemNumber), amount: "0", description: "x" }, "The amount cannot be zero."],
      [{ member: String(m.systemNumber), amount: "abc", description: "x" }, "Amount must be a number"],
      [{ member: String(m.systemNumber), amount: "1.001", description: "x" }, "at most two decimal places"],
      [{ member: String(m.systemNumber), amount: "5", description: " " }, "A reason is required."],
      [{ member: "999999999", amount: "5", description: "x" }, "No member has ABF number 999999999."],
      [
        {
          member: String((await s.p.db.user.findUniqueOrThrow({ where: { id: finance.id } })).systemNumber),
          amount: "5",
          description: "x",
          step: "confirm",
        },
        "You cannot adjust your own balance.",
      ],
    ];
    for (const [fields, message] of cases) {
      const res = await editor
        .post("/payments/manual-adjust-member")
        .type("form")
        .send({ _csrf: token, step: "review", ...fields });
      expect({ fields, status: res.status }).toEqual({ fields, status: 400 });
      expect(res.text).toContain(message);
    }
    expect(await postings()).toBe(before);
  });
});

describe("organisation adjustment and settlement by hand", () => {
  test("a settlement keeps the club's fee and reports payment, fee and GST", async () => {
    await fundOrganisation(s.p, club.id, 150_000n, finance.id);
    const refused = await editor
      .post("/payments/manual-adjust-org")
      .type("form")
      .send({
        _csrf: token,
        organisation: String(club.id),
        type: "Settlement",
        amount: "1000",
        description: "June",
        step: "review",
      });
    expect(refused.status).toBe(400);
    expect(refused.text).toContain("Settlement amount must be negative");

    const form = {
      _csrf: token,
      organisation: String(club.id),
      type: "Settlement",
      amount: "-1000",
      description: "Settlement June",
      request_id: `r-${key()}`,
    };
    const review = await editor
      .post("/payments/manual-adjust-org")
      .type("form")
      .send({ ...form, step: "review" });
    expect(review.text).toContain("Net bank transfer: <strong>$970.00</strong>");
    await editor
      .post("/payments/manual-adjust-org")
      .type("form")
      .send({ ...form, step: "confirm" });
    expect((await s.p.db.account.findUniqueOrThrow({ where: { organisationId: club.id } })).balanceCents).toBe(50_000n);

    const report = await editor
      .get(`/payments/admin-view-specific-transactions/settlement?format=csv&from=2020-01-01&to=2099-12-31`)
      .buffer(true);
    const rows = csv(text(report));
    expect(rows[0]).toEqual([
      "Date",
      "Administrator",
      "Transaction Type",
      "ABF Number",
      "User",
      "Club ID",
      "Organisation",
      "Description",
      "Amount",
      "Payment",
      "Fee (gross)",
      "GST",
    ]);
    const line = rows.find((r) => r[7] === "Settlement June")!;
    expect(line.slice(3)).toEqual([
      "",
      "",
      club.clubNumber,
      club.name,
      "Settlement June",
      "-1000.00",
      "970.00",
      "30.00",
      "2.73",
    ]);
  });

  test("a plain organisation adjustment, from the preselected page", async () => {
    const page = await editor.get(`/payments/manual-adjust-org/${club.id}/1`);
    expect(page.text).toContain(`value="${club.id}" selected`);
    const form = {
      _csrf: token,
      organisation: String(club.id),
      type: "Manual Adjustment",
      amount: "25",
      description: "Prize pool",
      request_id: `r-${key()}`,
    };
    const before = (await s.p.db.account.findUniqueOrThrow({ where: { organisationId: club.id } })).balanceCents;
    await editor
      .post("/payments/manual-adjust-org")
      .type("form")
      .send({ ...form, step: "confirm" });
    expect((await s.p.db.account.findUniqueOrThrow({ where: { organisationId: club.id } })).balanceCents).toBe(
      before + 2_500n,
    );
  });
});

describe("payment settings", () => {
  test("every save is a new version; bad values are refused and save nothing", async () => {
    const versions = await s.p.db.paymentSettings.count();
    const base = {
      _csrf: token,
      defaultOrgFee: "2.5",
      stripeFixedFee: "0.30",
      stripeFee: "1.75",
      refundFee: "3",
      refundWindowWeeks: "12",
      abaBankCode: "cba",
      abaUserName: "Australian Bridge Fed",
      abaUserId: "301500",
      abaRemitterName: "ABF Credits",
      federationBsb: "062-000",
      federationAccount: "10203040",
      approvalThreshold: "5000.00",
      settlementApprovalThreshold: "100000.00",
    };
    for (const [field, value, message] of [
      ["defaultOrgFee", "101", "cannot be more than 100"],
      ["stripeFixedFee", "-1", "cannot be negative"],
      ["refundWindowWeeks", "two", "whole number of weeks"],
      ["abaUserId", "12345", "user id is six digits"],
      ["federationBsb", "12345", "BSB is six digits"],
    ]) {
      const res = await editor
        .post("/payments/admin-payments-static")
        .type("form")
        .send({ ...base, [field!]: value });
      expect(res.status).toBe(400);
      expect(res.text).toContain(message);
    }
    expect(await s.p.db.paymentSettings.count()).toBe(versions);
    expect((await editor.post("/payments/admin-payments-static").type("form").send(base)).status).toBe(302);
    const history = await editor.get("/payments/admin-payments-static-history");
    expect(history.text.match(/Inactive/g)?.length).toBe(versions);
    expect(history.text).toContain("2.50%");
    expect((await editor.get(`/payments/get-org-fees/${club.id}`)).text).toBe("2.50");
    const newest = await s.p.db.paymentSettings.findFirstOrThrow({ orderBy: { id: "desc" } });
    expect(newest).toMatchObject({ abaBankCode: "CBA", federationBsb: "062000", federationAccount: "10203040" });
  });

  test("a club's fee override: added once, used, deleted by POST after confirmation", async () => {
    const add = { _csrf: token, organisation: String(club.id), fee: "1.25" };
    expect((await editor.post("/payments/admin-payments-static-org-override-add").type("form").send(add)).status).toBe(
      302,
    );
    const again = await editor.post("/payments/admin-payments-static-org-override-add").type("form").send(add);
    expect(again.status).toBe(400);
    expect(again.text).toContain("already has an override");
    expect((await editor.get(`/payments/get-org-fees/${club.id}`)).text).toBe("1.25");
    const row = await s.p.db.organisationFeeOverride.findUniqueOrThrow({ where: { organisationId: club.id } });
    expect((await editor.get(`/payments/admin-payments-static-org-override-delete/${row.id}`)).text).toContain(
      "Delete the fee override",
    );
    await editor
      .post(`/payments/admin-payments-static-org-override-delete/${row.id}`)
      .type("form")
      .send({ _csrf: token });
    expect((await editor.get(`/payments/get-org-fees/${club.id}`)).text).toBe("2.50");
  });
});

describe("club transfer to a member", () => {
  test("positive, at most the club's balance; done by the club's officer", async () => {
    const m = await makeUser(s.p.db);
    const path = `/payments/member-transfer-org/${club.id}`;
    const balance = (await s.p.db.account.findUniqueOrThrow({ where: { organisationId: club.id } })).balanceCents;
    for (const [amount, message] of [
      ["-5", "cannot be negative"],
      ["0", "positive"],
      ["1000000", "Insufficient funds"],
    ]) {
      const res = await officer
        .post(path)
        .type("form")
        .send({ _csrf: officerToken, abf: String(m.systemNumber), amount, description: "Prize" });
      expect(res.status).toBe(400);
      expect(res.text).toContain(message);
    }
    const ok = await officer
      .post(path)
      .type("form")
      .send({
        _csrf: officerToken,
        abf: String(m.systemNumber),
        amount: "10",
        description: "Prize",
        request_id: `r-${key()}`,
      });
    expect(ok.status).toBe(302);
    expect(await getBalance(s.p, m.id)).toBe(1_000n);
    expect((await s.p.db.account.findUniqueOrThrow({ where: { organisationId: club.id } })).balanceCents).toBe(
      balance - 1_000n,
    );
    const page = await officer.get(`/payments/statement-org/${club.id}`);
    expect(page.text).toContain("Closing Balance");
    expect(page.text).toContain("Opening Balance");
  });
});

test("members-with-balance CSV parses back to the ledger", async () => {
  const m = await makeUser(s.p.db);
  await fundMember(s.p, m.id, 12_345n, finance.id);
  const res = await editor.get("/payments/admin-members-with-balance-csv").buffer(true);
  const rows = csv(text(res));
  expect(rows[0]).toEqual(["Member Number", "Member First Name", "Member Last Name", "Balance"]);
  const ledger = await s.p.db.account.findMany({
    where: { kind: "MEMBER", balanceCents: { not: 0n } },
    include: { user: true },
  });
  expect(rows.length - 1).toBe(ledger.length);
  for (const a of ledger) {
    const line = rows.find((r) => r[0] === String(a.user!.systemNumber))!;
    expect(line[3]).toBe((Number(a.balanceCents) / 100).toFixed(2)); // test-side check only
  }
});

test("admin refund: review, then confirm; the ledger stays whole", async () => {
  const m = await makeUser(s.p.db, { firstName: "Refundee" });
  const card = { id: await topUpByCard(s, m.id, 8_000n) };
  const path = `/payments/admin-refund-stripe-transaction/${card.id}`;
  const bad = await editor.post(path).type("form").send({ _csrf: token, amount: "80.01", step: "review" });
  expect(bad.status).toBe(400);
  expect(bad.text).toContain("Too large. Refund is more than was paid.");
  const review = await editor
    .post(path)
    .type("form")
    .send({ _csrf: token, amount: "30", description: "Goodwill", step: "review" });
  expect(review.text).toContain(`Are You Sure? Refund $30.00 to Refundee ${m.lastName}`);
  expect(await getBalance(s.p, m.id)).toBe(8_000n);
  const requestId = /name="request_id" value="([^"]+)"/.exec(review.text)![1];
  const confirm = { _csrf: token, amount: "30", description: "Goodwill", step: "confirm", request_id: requestId };
  await editor.post(path).type("form").send(confirm);
  await editor.post(path).type("form").send(confirm); // submitted twice: refunded once
  expect(await getBalance(s.p, m.id)).toBe(5_000n);
  expect(await s.p.db.cardRefund.count({ where: { cardPaymentId: card.id } })).toBe(1);
  const detail = await editor.get(`/payments/admin-view-stripe-transaction-detail/${card.id}`);
  expect(detail.text).toContain("$1.70"); // the emulator's Stripe fee on $80: 1.75 % + 30c, rounded
});

test("a stored event that was not applied can be applied again, once", async () => {
  const { m, charge } = await checkoutWithCharge(s, 4_000n);
  const id = await failedStripeEvent(s, charge);
  const page = await editor.get(`/payments/admin-stripe-events/${id}`);
  expect(page.text).toContain("Apply again");
  await editor.post(`/payments/admin-stripe-events/${id}/reapply`).type("form").send({ _csrf: token });
  await editor.post(`/payments/admin-stripe-events/${id}/reapply`).type("form").send({ _csrf: token });
  expect(await getBalance(s.p, m.id)).toBe(4_000n);
  const after = await editor.get(`/payments/admin-stripe-events/${id}`);
  expect(after.text).toContain("Already applied");
});

// The adjustment forms carried the request id "undefined" on every GET (issue 15 item 1's class of bug): every
// adjustment after the first by the same person was taken for a repeat of it.
test("adjustments made one after another from fresh pages each book (each page has its own request id)", async () => {
  const m = await makeUser(s.p.db);
  const c = await makeClub(s.p.db, "Twice");
  const adjust = async (page: string, action: string, fields: Record<string, string>) => {
    const blank = renderedForm((await editor.get(page)).text, action);
    expect(blank.request_id).toMatch(/^[0-9a-f-]{36}$/);
    const review = await editor
      .post(action)
      .type("form")
      .send({ ...blank, ...fields, step: "review" });
    expect(review.status).toBe(200);
    const confirm = renderedForm(review.text, action);
    expect(confirm.request_id).toBe(blank.request_id);
    const done = await editor
      .post(action)
      .type("form")
      .send({ ...confirm, step: "confirm" });
    expect(done.status).toBe(302);
    return blank.request_id;
  };
  const member = { member: String(m.systemNumber), description: "Goodwill" };
  const ids = [
    await adjust("/payments/manual-adjust-member", "/payments/manual-adjust-member", { ...member, amount: "10" }),
    await adjust("/payments/manual-adjust-member", "/payments/manual-adjust-member", { ...member, amount: "5" }),
  ];
  expect(ids[1]).not.toBe(ids[0]);
  expect(await getBalance(s.p, m.id)).toBe(1_500n);
  const org = { organisation: String(c.id), type: "Manual Adjustment", description: "Grant" };
  await adjust("/payments/manual-adjust-org", "/payments/manual-adjust-org", { ...org, amount: "20" });
  await adjust("/payments/manual-adjust-org", "/payments/manual-adjust-org", { ...org, amount: "7" });
  expect((await s.p.db.account.findUniqueOrThrow({ where: { organisationId: c.id } })).balanceCents).toBe(2_700n);
});
