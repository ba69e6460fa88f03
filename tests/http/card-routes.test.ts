// The member's card routes: who may call them, CSRF, bad input refused with the message shown and nothing
// changed, and amounts always taken from our records (never the browser).
import request from "supertest";
import type TestAgent from "supertest/lib/agent";
import { createCheckout } from "../../src/services/cards/checkout";
import { autoTopUpMember } from "../../src/services/payments/auto-topup-member";
import { csrfToken, makeUser, signIn } from "../helpers/app";
import { type CardStack, startCardStack } from "../helpers/card-stack";
import { CARDS, fundMember, key, ledgerSnapshot, saveCard, savedCardCharges } from "../helpers/payments";
import { renderedForm } from "../helpers/rendered-form";

let s: CardStack;
let alice: { id: number; email: string };
let bob: { id: number; email: string };
let a: TestAgent;
let b: TestAgent;
let aToken: string;
let bToken: string;

beforeAll(async () => {
  s = await startCardStack();
  alice = await makeUser(s.p.db, { firstName: "Alice" });
  bob = await makeUser(s.p.db, { firstName: "Bob" });
  a = (await signIn(s.app, alice.email)).agent;
  b = (await signIn(s.app, bob.email)).agent;
  aToken = await csrfToken(a, "/payments/manual-topup");
  bToken = await csrfToken(b, "/payments/manual-topup");
});
afterAll(() => s.close());

const cardPayments = () => s.p.db.cardPayment.count();

test("anonymous visitors are sent to sign in; anonymous JSON calls change nothing", async () => {
  for (const path of [
    "/payments/manual-topup",
    "/payments/setup-autotopup",
    "/payments/checkout/1",
    "/payments/statement",
  ]) {
    const res = await request(s.app).get(path);
    expect({ path, status: res.status }).toEqual({ path, status: 302 });
    expect(res.headers.location).toBe(`/login?next=${encodeURIComponent(path)}`);
  }
  const res = await request(s.app).post("/payments/create-payment-intent").send({ id: 1 });
  expect([401, 403]).toContain(res.status);
});

test("manual top-up: bad amounts are refused with a clear message and nothing is created", async () => {
  await fundMember(s.p, bob.id, 199_000n, alice.id);
  const before = await cardPayments();
  const cases: [TestAgent, string, string, string][] = [
    [a, aToken, "", "Amount"],
    [a, aToken, "abc", "Amount"],
    [a, aToken, "-60", "Amount"],
    [a, aToken, "60.001", "Amount"],
    [a, aToken, "1e3", "Amount"],
    [a, aToken, "49.99", "Insufficient amount. Minimum is $50"],
    [b, bToken, "50", "Too large. Maximum balance is $2000"],
  ];
  for (const [agent, token, amount, message] of cases) {
    const res = await agent.post("/payments/manual-topup").type("form").send({ _csrf: token, amount });
    expect({ amount, status: res.status }).toEqual({ amount, status: 400 });
    expect(res.text).toContain(message);
    expect(res.text).not.toMatch(/at \w+ \(/);
  }
  expect(await cardPayments()).toBe(before);
});

describe("manual top-up limits hold for both cards, driven through the form as rendered", () => {
  // With auto top-up on, "Use Registered Card" is the form's default choice.
  const limitCases = (start: bigint) =>
    [
      ["49.99", 0n, "Insufficient amount. Minimum is $50"],
      ["50", start, "Too large. Maximum balance is $2000"],
    ] as const;

  for (const choice of ["Existing", "Another"] as const) {
    test(`card choice ${choice}: under $50, or a balance taken over $2,000, is refused; nothing charged or booked`, async () => {
      const m = await makeUser(s.p.db);
      await saveCard(s, m.id, CARDS.ok, 5_000n);
      const agent = (await signIn(s.app, m.email)).agent;
      for (const [amount, fund, message] of limitCases(195_001n)) {
        if (fund) await fundMember(s.p, m.id, fund, alice.id);
        const page = await agent.get("/payments/manual-topup");
        const form = renderedForm(page.text, "/payments/manual-topup");
        if (choice === "Existing") expect(form.card_choice).toBe("Existing");
        const [cards, ledger] = [await cardPayments(), await ledgerSnapshot(s.p)];
        const res = await agent
          .post("/payments/manual-topup")
          .type("form")
          .send({ ...form, amount, card_choice: choice });
        expect({ amount, status: res.status }).toEqual({ amount, status: 400 });
        expect(res.text).toContain(message);
        expect(savedCardCharges(s.emulator, m.id)).toHaveLength(0);
        expect(await cardPayments()).toBe(cards);
        expect(await ledgerSnapshot(s.p)).toBe(ledger);
      }
      // A top-up that brings the balance to exactly $2,000 goes through.
      const ok = await makeUser(s.p.db);
      await saveCard(s, ok.id, CARDS.ok, 5_000n);
      await fundMember(s.p, ok.id, 150_000n, alice.id);
      const okAgent = (await signIn(s.app, ok.email)).agent;
      const form = renderedForm((await okAgent.get("/payments/manual-topup")).text, "/payments/manual-topup");
      const res = await okAgent
        .post("/payments/manual-topup")
        .type("form")
        .send({ ...form, amount: "500", card_choice: choice });
      expect(res.status).toBe(302);
      if (choice === "Existing") {
        expect(res.headers.location).toBe("/payments/statement");
        expect(savedCardCharges(s.emulator, ok.id)).toHaveLength(1);
        const acct = await s.p.db.account.findUniqueOrThrow({ where: { userId: ok.id } });
        expect(acct.balanceCents).toBe(200_000n);
      } else {
        expect(res.headers.location).toMatch(/^\/payments\/checkout\/\d+$/);
      }
    });
  }
});

test("manual top-up: a good amount leads to the checkout; the same form sent twice makes one checkout", async () => {
  const form = { _csrf: aToken, amount: "75.50", request_id: `req-${key()}` };
  const first = await a.post("/payments/manual-topup").type("form").send(form);
  const second = await a.post("/payments/manual-topup").type("form").send(form);
  expect(first.status).toBe(302);
  expect(second.headers.location).toBe(first.headers.location);
  const page = await a.get(first.headers.location!);
  expect(page.status).toBe(200);
  expect(page.text).toContain("$75.50");
  expect(page.text).toContain(`src="${s.emulator.scriptUrl}"`);
  expect(page.headers["content-security-policy"]).toContain(s.emulator.url);
});

test("checkout records: only their owner may open or pay them; the amount is ours, not the browser's", async () => {
  const card = await createCheckout(s.p, {
    userId: alice.id,
    amountCents: 6_000n,
    description: "Manual Top Up",
    requestKey: key(),
  });
  expect((await b.get(`/payments/checkout/${card.id}`)).status).toBe(404);
  expect((await b.get("/payments/checkout/not-a-number")).status).toBe(404);
  const stolen = await b.post("/payments/create-payment-intent").set("X-CSRF-Token", bToken).send({ id: card.id });
  expect(stolen.status).toBe(400);
  expect(stolen.body.error).toBe("Invalid payload");
  expect((await b.post(`/payments/stripe-webpage-confirm/${card.id}`).set("X-CSRF-Token", bToken)).status).toBe(404);

  expect((await a.post("/payments/create-payment-intent").send({ id: card.id })).status).toBe(403); // no CSRF token
  const res = await a
    .post("/payments/create-payment-intent")
    .set("X-CSRF-Token", aToken)
    .send({ id: card.id, amount: 1, description: "cheaper" });
  expect(res.status).toBe(200);
  expect(res.body.publishableKey).toBe(s.emulator.publishableKey);
  const pi = s.emulator.store.objects.get(res.body.clientSecret.split("_secret_")[0])!;
  expect(pi.amount).toBe(6_000);
  expect((await s.p.db.cardPayment.findUniqueOrThrow({ where: { id: card.id } })).status).toBe("INTENT");
  // Asking again (a refreshed page) gives the same PaymentIntent.
  const again = await a.post("/payments/create-payment-intent").set("X-CSRF-Token", aToken).send({ id: card.id });
  expect(again.body.clientSecret).toBe(res.body.clientSecret);
  expect((await a.post(`/payments/stripe-webpage-confirm/${card.id}`).set("X-CSRF-Token", aToken)).status).toBe(200);
  expect((await s.p.db.cardPayment.findUniqueOrThrow({ where: { id: card.id } })).status).toBe("PENDING");
});

test("auto top-up set-up: a SetupIntent for the member's own customer; the browser can only make it PENDING", async () => {
  const page = await a.get("/payments/setup-autotopup");
  expect(page.status).toBe(200);
  expect(page.text).toContain("Save Card");
  const res = await a.post("/payments/create-payment-superintent").set("X-CSRF-Token", aToken).send({});
  expect(res.status).toBe(200);
  const si = s.emulator.store.objects.get(res.body.clientSecret.split("_secret_")[0])!;
  const user = await s.p.db.user.findUniqueOrThrow({ where: { id: alice.id } });
  expect(si.customer).toBe(user.stripeCustomerId);
  await a.post("/payments/stripe-autotopup-confirm").set("X-CSRF-Token", aToken);
  expect((await s.p.db.user.findUniqueOrThrow({ where: { id: alice.id } })).autoTopUpStatus).toBe("PENDING");
  await a.post("/payments/stripe-autotopup-off").set("X-CSRF-Token", aToken);
  expect((await s.p.db.user.findUniqueOrThrow({ where: { id: alice.id } })).autoTopUpStatus).toBe("OFF");
});

test("a top-up waiting for authentication can be confirmed only by its member", async () => {
  const m = await makeUser(s.p.db);
  await saveCard(s, m.id, CARDS.authentication, 5_000n);
  const r = await autoTopUpMember(s.p, { userId: m.id, idempotencyKey: key() });
  if (r.ok || !r.needsAuthentication) throw new Error("expected a top-up needing authentication");
  expect((await b.get(`/payments/confirm-auto-topup/${r.needsAuthentication}`)).status).toBe(404);
  const owner = (await signIn(s.app, m.email)).agent;
  const page = await owner.get(`/payments/confirm-auto-topup/${r.needsAuthentication}`);
  expect(page.status).toBe(200);
  expect(page.text).toContain("Confirm payment");
  expect(page.text).toContain("$50.00");
});

test("when the card processor does not answer, the member gets a clear 503, never a 500", async () => {
  s.emulator.faults.push({ kind: "api_error", path: "/v1/setup_intents" });
  const res = await a.post("/payments/create-payment-superintent").set("X-CSRF-Token", aToken).send({});
  expect(res.status).toBe(503);
  expect(res.body.error).toContain("The card processor did not answer just now");
});
