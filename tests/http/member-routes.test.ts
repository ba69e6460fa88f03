// The member's action routes: anonymous, the owner and another member; bad input refused with the message shown
// and nothing changed.
import request from "supertest";
import type TestAgent from "supertest/lib/agent";
import { createCheckoutIntent } from "../../src/services/cards/checkout";
import { getBalance } from "../../src/services/payments/balances";
import { createIou } from "../../src/services/payments/ious";
import { csrfToken, makeClub, makeUser, signIn } from "../helpers/app";
import { type CardStack, payAtBrowser, startCardStack, topUpByCard, webhooksSettled } from "../helpers/card-stack";
import { CARDS, fundMember, key, saveCard } from "../helpers/payments";

let s: CardStack;
type Person = { id: number; email: string; systemNumber: number; firstName: string; lastName: string };
let alice: Person;
let bob: Person;
let a: TestAgent;
let b: TestAgent;
let aToken: string;
let bToken: string;
let finance: Person;

beforeAll(async () => {
  s = await startCardStack();
  finance = await makeUser(s.p.db, { level: "VIEW", firstName: "Fin" });
  alice = await makeUser(s.p.db, { firstName: "Alice" });
  bob = await makeUser(s.p.db, { firstName: "Bob" });
  await fundMember(s.p, alice.id, 10_000n, finance.id);
  a = (await signIn(s.app, alice.email)).agent;
  b = (await signIn(s.app, bob.email)).agent;
  aToken = await csrfToken(a, "/payments/member-transfer");
  bToken = await csrfToken(b, "/payments/member-transfer");
});
afterAll(() => s.close());

const postings = () => s.p.db.posting.count();

test("anonymous visitors are sent to sign in, and cannot post", async () => {
  for (const path of [
    "/payments/member-transfer",
    "/payments/cancel-autotopup",
    "/payments/refund-stripe-transaction/1",
    "/payments/messages",
  ]) {
    const res = await request(s.app).get(path);
    expect({ path, status: res.status }).toEqual({ path, status: 302 });
  }
  expect((await request(s.app).get("/payments/member-search?q=Al").set("Accept", "application/json")).status).toBe(401);
  for (const path of [
    "/payments/member-transfer",
    "/payments/pay-user-pending-payment/1",
    "/payments/cancel-autotopup",
  ]) {
    expect([401, 403]).toContain((await request(s.app).post(path).type("form").send({})).status);
  }
});

describe("member transfer", () => {
  const send = (fields: Record<string, string>) =>
    a
      .post("/payments/member-transfer")
      .type("form")
      .send({ _csrf: aToken, request_id: `r-${key()}`, ...fields });

  test("bad requests are refused with the message on the page, and nothing is booked", async () => {
    const inactive = await makeUser(s.p.db, { isActive: false });
    const before = await postings();
    const cases: [Record<string, string>, string][] = [
      [{ to: String(bob.id), amount: "-5", description: "x" }, "Amount"],
      [{ to: String(bob.id), amount: "0", description: "x" }, "Must be a positive amount."],
      [{ to: String(bob.id), amount: "1.234", description: "x" }, "Amount"],
      [
        { to: String(bob.id), amount: "2000.01", description: "x" },
        "Too large. Maximum transfer amount is 2,000 credits.",
      ],
      [{ to: String(alice.id), amount: "5", description: "x" }, "You cannot transfer to yourself."],
      [{ amount: "5", description: "x" }, "Choose who to transfer to."],
      [{ abf: "999999999", amount: "5", description: "x" }, "No member has ABF number 999999999."],
      [{ to: String(bob.id), amount: "5", description: "  " }, "A description is required."],
      [{ to: String(inactive.id), amount: "5", description: "x" }, "not active"],
    ];
    for (const [fields, message] of cases) {
      const res = await send(fields);
      expect({ fields, status: res.status }).toEqual({ fields, status: 400 });
      expect(res.text).toContain(message);
    }
    expect(await postings()).toBe(before);
    expect(await getBalance(s.p, alice.id)).toBe(10_000n);
  });

  test("from the balance: done, with a message; by ABF number works too", async () => {
    const res = await send({ to: String(bob.id), amount: "12.50", description: "Coffee" });
    expect(res.status).toBe(302);
    expect(res.headers.location).toBe("/dashboard");
    expect((await a.get("/dashboard")).text).toContain(`Payment of $12.50 to Bob ${bob.lastName} successful`);
    await send({ abf: String(bob.systemNumber), amount: "2.50", description: "Tea" });
    expect(await getBalance(s.p, bob.id)).toBe(1_500n);
  });

  test("more than the balance: off to a checkout for the rest", async () => {
    const res = await send({ to: String(bob.id), amount: "100", description: "Entry" });
    expect(res.status).toBe(302);
    expect(res.headers.location).toMatch(/^\/payments\/checkout\/\d+\?next=%2Fdashboard$/);
    const page = await a.get(res.headers.location!);
    expect(page.text).toContain("Partial payment for transfer to Bob");
    expect(page.text).toContain("$15.00"); // 100 − 85 left
  });

  test("member search: signed in only, never yourself, by name or ABF number, at most 10", async () => {
    const byName = await a.get("/payments/member-search?q=Bob").set("Accept", "application/json");
    expect(byName.body.map((u: { id: number }) => u.id)).toContain(bob.id);
    const self = await a.get("/payments/member-search?q=Alice").set("Accept", "application/json");
    expect(self.body.map((u: { id: number }) => u.id)).not.toContain(alice.id);
    const byAbf = await a.get(`/payments/member-search?q=${bob.systemNumber}`).set("Accept", "application/json");
    expect(byAbf.body).toEqual([{ id: bob.id, name: `Bob ${bob.lastName}`, systemNumber: bob.systemNumber }]);
    for (let i = 0; i < 12; i++) await makeUser(s.p.db, { firstName: "Many" });
    expect((await a.get("/payments/member-search?q=Many").set("Accept", "application/json")).body).toHaveLength(10);
  });

  test("member search ignores case and accents, and treats % and _ as letters", async () => {
    const lukasz = await makeUser(s.p.db, { firstName: "Łukasz" });
    await s.p.db.user.update({ where: { id: lukasz.id }, data: { lastName: "Żółć-Ångström" } });
    const ids = async (q: string) =>
      (await a.get("/payments/member-search").query({ q }).set("Accept", "application/json")).body.map(
        (u: { id: number }) => u.id,
      );
    for (const q of ["zolc", "ŻÓŁĆ", "lukasz", "LUKASZ zol", "zolc-angs", "Łukasz Żółć"]) {
      expect({ q, found: (await ids(q)).includes(lukasz.id) }).toEqual({ q, found: true });
    }
    for (const q of ["olc", "lukasz x", "%olc", "_ukasz", "l%"]) {
      expect({ q, found: (await ids(q)).includes(lukasz.id) }).toEqual({ q, found: false });
    }
    // The 60-character cut falls inside a character outside the BMP: no half character reaches the database.
    const long = `${"a".repeat(59)}\u{1F0A1}tail`;
    const res = await a.get("/payments/member-search").query({ q: long }).set("Accept", "application/json");
    expect(res.status).toBe(200);
    expect(res.body).toEqual([]);
  });
});

describe("IOUs", () => {
  test("only the debtor may pay; paying from the balance removes the IOU", async () => {
    const club = await makeClub(s.p.db);
    const iou = await createIou(s.p, {
      systemNumber: alice.systemNumber,
      organisationId: club.id,
      amountCents: 700n,
      description: "Tuesday",
    });
    expect((await a.get("/dashboard")).text).toContain("Tuesday");
    const stolen = await b.post(`/payments/pay-user-pending-payment/${iou.id}`).type("form").send({ _csrf: bToken });
    expect(stolen.status).toBe(302);
    expect((await b.get("/dashboard")).text).toContain("You can only pay your own IOUs.");
    expect(await s.p.db.iou.count({ where: { id: iou.id } })).toBe(1);

    const before = await getBalance(s.p, alice.id);
    await a.post(`/payments/pay-user-pending-payment/${iou.id}`).type("form").send({ _csrf: aToken });
    expect(await getBalance(s.p, alice.id)).toBe(before - 700n);
    expect(await s.p.db.iou.count({ where: { id: iou.id } })).toBe(0);
    const again = await a.post(`/payments/pay-user-pending-payment/${iou.id}`).type("form").send({ _csrf: aToken });
    expect(again.status).toBe(302);
    expect(await getBalance(s.p, alice.id)).toBe(before - 700n);
  });

  test("without the balance, the IOU is paid by card and removed by the webhook", async () => {
    const club = await makeClub(s.p.db);
    const iou = await createIou(s.p, {
      systemNumber: bob.systemNumber,
      organisationId: club.id,
      amountCents: 9_000n,
      description: "Annual fee",
    });
    const res = await b.post(`/payments/pay-user-pending-payment/${iou.id}`).type("form").send({ _csrf: bToken });
    const cardId = Number(/checkout\/(\d+)/.exec(res.headers.location!)![1]);
    const { clientSecret } = await createCheckoutIntent(s.p, bob.id, cardId);
    await payAtBrowser(s.emulator, clientSecret, CARDS.ok);
    await webhooksSettled(s.emulator);
    expect(await s.p.db.iou.count({ where: { id: iou.id } })).toBe(0);
    expect((await s.p.db.account.findUniqueOrThrow({ where: { organisationId: club.id } })).balanceCents).toBe(9_000n);
  });
});

describe("refund to card", () => {
  test("someone else's card payment is refused; your own is confirmed then refunded", async () => {
    const card = { id: await topUpByCard(s, alice.id, 5_000n) };

    await b.get(`/payments/refund-stripe-transaction/${card.id}`);
    expect((await b.get("/payments/statement")).text).toContain("Action Prohibited - transaction is not yours");
    await b.post(`/payments/refund-stripe-transaction/${card.id}`).type("form").send({ _csrf: bToken });
    expect((await s.p.db.cardPayment.findUniqueOrThrow({ where: { id: card.id } })).refundedCents).toBe(0n);

    const statement = await a.get("/payments/statement");
    expect(statement.text).toContain(`/payments/refund-stripe-transaction/${card.id}`);
    const confirm = await a.get(`/payments/refund-stripe-transaction/${card.id}`);
    expect(confirm.text).toContain("$48.50"); // $50 less the 3 % refund fee
    const before = await getBalance(s.p, alice.id);
    await a.post(`/payments/refund-stripe-transaction/${card.id}`).type("form").send({ _csrf: aToken });
    expect(await getBalance(s.p, alice.id)).toBe(before - 5_000n);
    expect((await a.get("/payments/statement")).text).toContain("Refunded");
  });
});

describe("auto top-up settings", () => {
  test("the amount must be one offered; stopping switches it off", async () => {
    await saveCard(s, alice.id, CARDS.ok, 10_000n);
    await a.post("/payments/update-auto-amount").type("form").send({ _csrf: aToken, amount: "75" });
    expect((await a.get("/payments/setup-autotopup")).text).toContain(
      "Choose an auto top-up amount of $50, $100, $150 or $200.",
    );
    await a.post("/payments/update-auto-amount").type("form").send({ _csrf: aToken, amount: "150" });
    expect((await s.p.db.user.findUniqueOrThrow({ where: { id: alice.id } })).autoTopUpAmountCents).toBe(15_000n);
    await a.post("/payments/cancel-autotopup").type("form").send({ _csrf: aToken });
    expect((await s.p.db.user.findUniqueOrThrow({ where: { id: alice.id } })).autoTopUpStatus).toBe("OFF");
  });
});

test("the low-balance warning can be switched off and on", async () => {
  await a.post("/payments/messages/settings").type("form").send({ _csrf: aToken });
  expect((await s.p.db.user.findUniqueOrThrow({ where: { id: alice.id } })).receiveLowBalanceEmails).toBe(false);
  await a.post("/payments/messages/settings").type("form").send({ _csrf: aToken, low_balance: "on" });
  expect((await s.p.db.user.findUniqueOrThrow({ where: { id: alice.id } })).receiveLowBalanceEmails).toBe(true);
});

test("messages are the member's own; the mail log is for finance staff", async () => {
  const aliceMessages = await a.get("/payments/messages");
  expect(aliceMessages.text).toContain(`Transfer to Bob ${bob.lastName}`);
  expect(aliceMessages.text).not.toContain(`Transfer from Alice ${alice.lastName}`);
  expect((await a.get("/payments/mail-log")).status).toBe(403);
  const f = (await signIn(s.app, finance.email)).agent;
  const log = await f.get("/payments/mail-log");
  expect(log.status).toBe(200);
  expect(log.text).toContain(`Transfer from Alice ${alice.lastName}`);
});
