// Issue 15 items 9–12: input that once answered 500 or was read loosely. Each form is driven as the page renders
// it (hidden fields read from the HTML); only the field under test is changed. Every refusal is a 400 naming the
// field, and the ledger is exactly as it was.
import type { Express } from "express";
import type TestAgent from "supertest/lib/agent";
import { csrfToken, makeClub, makeUser, signIn } from "../helpers/app";
import { type CardStack, startCardStack, topUpByCard } from "../helpers/card-stack";
import { renderedForm as formFields } from "../helpers/rendered-form";
import { appRoutes } from "../helpers/routes";
import { fundMember, fundOrganisation, ledgerSnapshot, violations } from "../helpers/payments";

let s: CardStack;
let finance: { id: number; email: string };
let editor: TestAgent;
let editorToken: string;
let member: { id: number; email: string; systemNumber: number };
let memberAgent: TestAgent;
let other: { id: number; systemNumber: number };
let club: { id: number };
let officer: TestAgent;

beforeAll(async () => {
  s = await startCardStack();
  finance = await makeUser(s.p.db, { level: "EDIT", firstName: "Fiona" });
  editor = (await signIn(s.app, finance.email)).agent;
  editorToken = await csrfToken(editor, "/dashboard");
  member = await makeUser(s.p.db);
  memberAgent = (await signIn(s.app, member.email)).agent;
  other = await makeUser(s.p.db);
  await fundMember(s.p, member.id, 10_000n, finance.id);
  club = await makeClub(s.p.db, "Bad Input");
  await fundOrganisation(s.p, club.id, 10_000n, finance.id);
  const off = await makeUser(s.p.db, { level: "EDIT", orgId: club.id });
  officer = (await signIn(s.app, off.email)).agent;
});
afterAll(() => s.close());
afterEach(async () => expect(await violations(s.p)).toEqual([]));

/** Posts `form` and expects a 400 whose page names `field`, with the ledger untouched. */
async function refused(agent: TestAgent, path: string, form: Record<string, unknown>, field: RegExp, json = false) {
  const before = await ledgerSnapshot(s.p);
  const req = agent.post(path);
  const res = json ? await req.set("Accept", "application/json").send(form) : await req.type("form").send(form);
  expect({ status: res.status, path }).toEqual({ status: 400, path });
  expect(json ? String(res.body.error) : res.text).toMatch(field);
  expect(await ledgerSnapshot(s.p)).toBe(before);
  return res;
}

describe("item 9: a NUL byte in free text is refused, naming the field", () => {
  test("member transfer", async () => {
    const form = formFields((await memberAgent.get("/payments/member-transfer")).text, "/payments/member-transfer");
    const sent = { ...form, abf: String(other.systemNumber), amount: "5", description: "a\u0000b" };
    await refused(memberAgent, "/payments/member-transfer", sent, /Description contains a control character/);
  });

  test("club → member transfer", async () => {
    const path = `/payments/member-transfer-org/${club.id}`;
    const form = formFields((await officer.get(path)).text, path);
    const sent = { ...form, abf: String(other.systemNumber), amount: "5", description: "a\u0000b" };
    await refused(officer, path, sent, /Description contains a control character/);
  });

  test("member adjustment, at review and at confirmation", async () => {
    const path = "/payments/manual-adjust-member";
    const form = formFields((await editor.get(path)).text, path);
    const typed = { ...form, member: String(other.systemNumber), amount: "5", description: "Correction" };
    await refused(editor, path, { ...typed, description: "a\u0000b", step: "review" }, /Reason contains a control/);
    const review = await editor
      .post(path)
      .type("form")
      .send({ ...typed, step: "review" });
    const confirm = formFields(review.text, path);
    await refused(editor, path, { ...confirm, description: "a\u0000b", step: "confirm" }, /Reason contains a control/);
  });

  test("club adjustment, at confirmation", async () => {
    const path = "/payments/manual-adjust-org";
    const form = formFields((await editor.get(path)).text, path);
    const typed = { ...form, organisation: String(club.id), amount: "5", description: "Correction", step: "review" };
    const review = await editor.post(path).type("form").send(typed);
    expect(review.status).toBe(200);
    const confirm = formFields(review.text, path);
    await refused(editor, path, { ...confirm, description: "a\u0000b", step: "confirm" }, /Reason contains a control/);
  });

  test("admin card refund, at confirmation; no refund is asked of Stripe", async () => {
    const card = await topUpByCard(s, other.id, 6_000n);
    const path = `/payments/admin-refund-stripe-transaction/${card}`;
    const form = formFields((await editor.get(path)).text, path);
    const review = await editor
      .post(path)
      .type("form")
      .send({ ...form, amount: "10", step: "review" });
    const confirm = formFields(review.text, path);
    await refused(editor, path, { ...confirm, description: "a\u0000b", step: "confirm" }, /Description contains a/);
    expect(await s.p.db.cardRefund.count({ where: { cardPaymentId: card } })).toBe(0);
  });

  test("a NUL in the webhook inbox's event id leads nowhere (404), not to a database error", async () => {
    const res = await editor.get("/payments/admin-stripe-events/%00");
    expect(res.status).toBe(404);
    expect(res.text).toMatch(/Event id/);
  });
});

describe("item 10: a JSON object where text belongs is refused on every POST form", () => {
  // Every field name any form of the app sends, each an object whose toString is not a function.
  const FIELDS = [
    ..."to abf amount description request_id card_choice member organisation type step fee identifier".split(" "),
    ..."password next currentPassword newPassword confirmPassword low_balance ref_date reference_date".split(" "),
    ..."action repeat q id defaultOrgFee stripeFixedFee stripeFee refundFee refundWindowWeeks abaBankCode".split(" "),
    ..."abaUserName abaUserId abaRemitterName federationBsb federationAccount".split(" "),
  ];
  const hostile = (token: string) => ({
    _csrf: token,
    ...Object.fromEntries(FIELDS.map((f) => [f, { toString: "x" }])),
  });

  test("no POST route answers 5xx", async () => {
    // The webhook proves itself with a signature, and signing out would end the session the loop uses.
    const posts = postRoutes(s.app).filter((p) => p !== "/payments/stripe-webhook" && p !== "/logout");
    expect(posts.length).toBeGreaterThan(20);
    const before = await ledgerSnapshot(s.p);
    const failures: string[] = [];
    for (const path of posts) {
      const res = await editor.post(path).set("Accept", "application/json").send(hostile(editorToken));
      if (res.status >= 500) failures.push(`${path} → ${res.status}`);
    }
    expect(failures).toEqual([]);
    expect(await ledgerSnapshot(s.p)).toBe(before);
  });

  test("the member transfer names the field", async () => {
    const token = await csrfToken(memberAgent, "/payments/member-transfer");
    const res = await refused(memberAgent, "/payments/member-transfer", hostile(token), /Recipient must be text/, true);
    expect(res.body).toEqual({ error: expect.any(String) });
  });
});

describe("item 11: ids past PostgreSQL's integer range are a 400", () => {
  test("create-payment-intent with id 99999999999", async () => {
    const token = await csrfToken(memberAgent, "/dashboard");
    await refused(memberAgent, "/payments/create-payment-intent", { _csrf: token, id: 99999999999 }, /too large/, true);
  });

  test("fee override for organisation 99999999999", async () => {
    const path = "/payments/admin-payments-static-org-override-add";
    const form = formFields((await editor.get(path)).text, path);
    await refused(editor, path, { ...form, organisation: "99999999999", fee: "2" }, /Organisation is too large/);
  });
});

describe("item 12: numbers and ids are plain digits", () => {
  test.each([
    ["", /refund window must be a whole number of weeks/],
    [undefined, /Refund window \(weeks\) is required/],
    ["0x10", /refund window must be a whole number of weeks/],
    ["1e2", /refund window must be a whole number of weeks/],
    ["-1", /refund window must be a whole number of weeks/],
    ["1.5", /refund window must be a whole number of weeks/],
  ])("settings refuse refundWindowWeeks %j and keep the version in force", async (weeks, message) => {
    const path = "/payments/admin-payments-static";
    const form = formFields((await editor.get(path)).text, path);
    const versions = await s.p.db.paymentSettings.count();
    const sent: Record<string, string | undefined> = { ...form, refundWindowWeeks: weeks };
    if (weeks === undefined) delete sent.refundWindowWeeks;
    await refused(editor, path, sent, message);
    expect(await s.p.db.paymentSettings.count()).toBe(versions);
  });

  test.each([" 5 ", "0x10", "+5", "5.0", "1e1", "-5", "0"])(
    "a fee override for organisation %j is refused",
    async (raw) => {
      const path = "/payments/admin-payments-static-org-override-add";
      const form = formFields((await editor.get(path)).text, path);
      const id = raw.replace("5", String(club.id)).replace("0x10", `0x${club.id.toString(16)}`);
      await refused(editor, path, { ...form, organisation: id, fee: "2" }, /Organisation/);
      expect(await s.p.db.organisationFeeOverride.count({ where: { organisationId: club.id } })).toBe(0);
    },
  );

  test.each([" 5 ", "+5", "0x10", "5.0"])("create-payment-intent refuses id %j", async (raw) => {
    const token = await csrfToken(memberAgent, "/dashboard");
    await refused(memberAgent, "/payments/create-payment-intent", { _csrf: token, id: raw }, /Id/, true);
  });
});

describe("dates are days that exist (found by the fuzz test)", () => {
  test.each([
    ["/payments/admin-stripe-rec?ref_date=2026-02-30", /Reference date is a date/],
    ["/payments/statement?from=2026-02-30", /From date is a date/],
    ["/payments/organisation-movement-report?from=2026-04-31", /From date is a date/],
  ])("%s is a 400 naming the field", async (path, message) => {
    const res = await editor.get(path);
    expect(res.status).toBe(400);
    expect(res.text).toMatch(message);
  });
});

/** Every POST path of the app, from its router (parameters filled with 1). */
function postRoutes(app: Express): string[] {
  const posts = appRoutes(app).filter((r) => r.method === "post");
  return [...new Set(posts.map((r) => r.path.replace(/:\w+/g, "1")))];
}
