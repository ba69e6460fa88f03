// Card money end to end on real parts: the payments core, the real Stripe SDK over HTTP to the emulator, and the
// emulator's signed webhooks posted to the real app. Reference §3.2–§3.6, decisions 4, 5 and 8.

import { startCardSetup } from "../../src/services/cards/auto-topup-setup";
import { createCheckoutIntent } from "../../src/services/cards/checkout";
import { statementRows } from "../../src/services/ledger/statement-rows";
import { autoTopUpMember } from "../../src/services/payments/auto-topup-member";
import { getBalance } from "../../src/services/payments/balances";
import { paymentApiBatch } from "../../src/services/payments/payment-api-batch";
import { paymentApiInteractive } from "../../src/services/payments/payment-api-interactive";
import type { PaymentEventMap } from "../../src/services/payments/payment-events";
import { makeClub, makeUser } from "../helpers/app";
import { type CardStack, payAtBrowser, startCardStack, webhooksSettled } from "../helpers/card-stack";
import { CARDS, fundMember, key, saveCard, savedCardCharges, violations } from "../helpers/payments";

let s: CardStack;
let admin: { id: number };
beforeAll(async () => {
  s = await startCardStack();
  admin = await makeUser(s.p.db);
});
afterAll(() => s.close());
afterEach(async () => expect(await violations(s.p)).toEqual([]));

const $ = (v: string) => BigInt(Math.round(Number(v) * 100)); // test literals only

function collect<K extends keyof PaymentEventMap>(name: K) {
  const seen: PaymentEventMap[K][] = [];
  const off = s.p.events.on(name, (e) => seen.push(e));
  return { seen, off };
}

async function person(first: string, balance = "0") {
  const u = await makeUser(s.p.db, { firstName: first });
  if (balance !== "0") await fundMember(s.p, u.id, $(balance), admin.id);
  return u;
}

async function rows(userId: number) {
  return (await statementRows(s.p.db, await s.p.accounts.forUser(userId), { limit: 20 })).reverse();
}

/** The member pays a checkout at the browser with `card`, and the webhooks arrive. */
async function payCheckout(userId: number, cardPaymentId: number, card: string = CARDS.ok) {
  const { clientSecret } = await createCheckoutIntent(s.p, userId, cardPaymentId);
  const r = await payAtBrowser(s.emulator, clientSecret, card);
  await webhooksSettled(s.emulator);
  return r;
}

describe("member transfer: the three funding scenarios of §3.6", () => {
  const transfer = (from: number, to: number, amount: string) =>
    paymentApiInteractive(s.p, {
      memberId: from,
      otherMemberId: to,
      amountCents: $(amount),
      description: "Lunch",
      type: "Member Transfer",
      routeCode: "M2M",
      routePayload: "",
      idempotencyKey: key(),
    });

  test("1. sufficient balance: paid at once", async () => {
    const [alan, fiona] = [await person("Alan", "100"), await person("Fiona")];
    const r = await transfer(alan.id, fiona.id, "40");
    expect(r).toMatchObject({ kind: "paid", message: `Payment of $40.00 to Fiona ${fiona.lastName} successful` });
    expect(await getBalance(s.p, alan.id)).toBe($("60"));
    expect(await getBalance(s.p, fiona.id)).toBe($("40"));
  });

  test("2. no balance: the whole amount by card; CC Payment then the transfer", async () => {
    const [alan, fiona] = [await person("Alan"), await person("Fiona")];
    const told = collect("memberTransfer");
    const r = await transfer(alan.id, fiona.id, "55.55");
    expect(r).toMatchObject({ kind: "checkout", cardAmountCents: $("55.55") });
    if (r.kind !== "checkout") throw new Error("expected a checkout");
    expect((await payCheckout(alan.id, r.cardPaymentId)).body.status).toBe("succeeded");
    told.off();
    expect((await rows(alan.id)).map((x) => [x.type, x.amountCents])).toEqual([
      ["CC Payment", $("55.55")],
      ["Member Transfer", -$("55.55")],
    ]);
    expect(await getBalance(s.p, fiona.id)).toBe($("55.55"));
    expect(told.seen).toEqual([
      { fromUserId: alan.id, toUserId: fiona.id, amountCents: $("55.55"), description: "Lunch" },
    ]);
  });

  test("3. part from the balance, the rest by card; the sender ends at zero", async () => {
    const [alan, fiona] = [await person("Alan", "19.99"), await person("Fiona")];
    const r = await transfer(alan.id, fiona.id, "100");
    expect(r).toMatchObject({ kind: "checkout", cardAmountCents: $("80.01") });
    if (r.kind !== "checkout") throw new Error("expected a checkout");
    await payCheckout(alan.id, r.cardPaymentId);
    expect((await rows(alan.id)).slice(1).map((x) => [x.type, x.amountCents, x.balanceAfterCents])).toEqual([
      ["CC Payment", $("80.01"), $("100")],
      ["Member Transfer", -$("100"), 0n],
    ]);
    expect(await getBalance(s.p, fiona.id)).toBe($("100"));
  });

  test("a checkout is payable only by its owner, and only once", async () => {
    const [alan, fiona] = [await person("Alan"), await person("Fiona")];
    const r = await transfer(alan.id, fiona.id, "60");
    if (r.kind !== "checkout") throw new Error("expected a checkout");
    await expect(createCheckoutIntent(s.p, fiona.id, r.cardPaymentId)).rejects.toThrow("does not exist");
    await payCheckout(alan.id, r.cardPaymentId);
    await expect(createCheckoutIntent(s.p, alan.id, r.cardPaymentId)).rejects.toThrow("already been made");
  });
});

describe("auto top-up through Stripe", () => {
  const pay = (userId: number, club: number, amount: string) =>
    paymentApiBatch(s.p, {
      memberId: userId,
      organisationId: club,
      amountCents: $(amount),
      description: "Table money",
      idempotencyKey: key(),
    });

  test("success is booked at once; Stripe's later charge.succeeded changes nothing", async () => {
    const m = await person("Maria", "10");
    await saveCard(s, m.id, CARDS.ok, $("100"));
    const club = await makeClub(s.p.db);
    expect(await pay(m.id, club.id, "95")).toMatchObject({ ok: true, topUpCents: $("200") });
    await webhooksSettled(s.emulator);
    expect(await getBalance(s.p, m.id)).toBe($("115"));
    expect((await rows(m.id)).map((x) => x.type)).toEqual(["Manual Adjustment", "Auto Top Up", "Miscellaneous"]);
    const card = await s.p.db.cardPayment.findFirstOrThrow({ where: { userId: m.id } });
    expect(card).toMatchObject({ status: "SUCCEEDED", kind: "SAVED_CARD", cardLast4: "4242" });
    expect(card.receiptUrl).toBe(`${s.emulator.url}/receipts/payment/${card.stripeChargeId}`);
  });

  test("a hard decline switches auto top-up off, tells the member and takes nothing", async () => {
    const m = await person("Hugh", "5");
    await saveCard(s, m.id, CARDS.declinesWhenCharged, $("50"));
    const failed = collect("autoTopUpFailed");
    const r = await pay(m.id, (await makeClub(s.p.db)).id, "40");
    failed.off();
    expect(r).toMatchObject({ ok: false, reason: "TOP_UP_FAILED" });
    expect((r as { message: string }).message).toBe("Your card was declined. Auto Top Up has been disabled.");
    expect((await s.p.db.user.findUniqueOrThrow({ where: { id: m.id } })).autoTopUpStatus).toBe("FAILED");
    expect(failed.seen).toHaveLength(1);
    expect(await getBalance(s.p, m.id)).toBe($("5"));
  });

  test("authentication required: the member confirms on-session and the webhook books the top-up", async () => {
    const m = await person("Ada", "5");
    await saveCard(s, m.id, CARDS.authentication, $("50"));
    const asked = collect("autoTopUpNeedsAuthentication");
    const r = await autoTopUpMember(s.p, { userId: m.id, idempotencyKey: key() });
    asked.off();
    expect(r).toMatchObject({ ok: false });
    expect((await s.p.db.user.findUniqueOrThrow({ where: { id: m.id } })).autoTopUpStatus).toBe("ON");
    const cardPaymentId = asked.seen[0]!.cardPaymentId;
    const card = await s.p.db.cardPayment.findUniqueOrThrow({ where: { id: cardPaymentId } });
    expect(card.status).toBe("REQUIRES_ACTION");

    // The confirmation page: Stripe.js confirms the same PaymentIntent with the saved card, 3-D Secure passes.
    const pi = await s.p.gateway.retrievePaymentIntent(card.stripePaymentIntentId!);
    const user = await s.p.db.user.findUniqueOrThrow({ where: { id: m.id } });
    const saved = await s.p.gateway.defaultCard(user.stripeCustomerId!);
    const headers = { Authorization: `Bearer ${s.emulator.publishableKey}` };
    const confirm = await fetch(`${s.emulator.url}/v1/payment_intents/${pi.id}/confirm`, {
      method: "POST",
      headers,
      body: new URLSearchParams({ client_secret: pi.clientSecret, payment_method: saved!.paymentMethodId }),
    });
    expect(((await confirm.json()) as { status: string }).status).toBe("requires_action");
    await fetch(`${s.emulator.url}/v1/emulator/authenticate/${pi.id}`, {
      method: "POST",
      headers,
      body: new URLSearchParams({ client_secret: pi.clientSecret, approve: "true" }),
    });
    await webhooksSettled(s.emulator);
    expect(await getBalance(s.p, m.id)).toBe($("55"));
    expect((await rows(m.id)).at(-1)?.type).toBe("Auto Top Up");
  });

  test("payments that all need a top-up at the same moment charge the card once", async () => {
    const m = await person("Zed");
    await saveCard(s, m.id, CARDS.ok, $("100"));
    const club = await makeClub(s.p.db);
    const results = await Promise.all(Array.from({ length: 5 }, () => pay(m.id, club.id, "15")));
    expect(results.every((r) => r.ok)).toBe(true);
    expect(savedCardCharges(s.emulator, m.id)).toHaveLength(1);
    expect(await getBalance(s.p, m.id)).toBe($("25"));
  });

  test("a payment refused just before another payment's top-up landed does not charge the card again", async () => {
    // The race the one-charge-in-flight rule alone leaves open: payment B is refused at a zero balance, payment
    // A's top-up then completes and frees the member's slot, and only then does B ask for its own top-up.
    const m = await person("Otto");
    await saveCard(s, m.id, CARDS.ok, $("100"));
    const first = await autoTopUpMember(s.p, { userId: m.id, idempotencyKey: key(), unlessBalanceAtLeast: $("15") });
    expect(first).toMatchObject({ ok: true, amountCents: $("100") });
    const late = await autoTopUpMember(s.p, { userId: m.id, idempotencyKey: key(), unlessBalanceAtLeast: $("15") });
    expect(late).toMatchObject({ ok: false, notNeeded: true });
    expect(savedCardCharges(s.emulator, m.id)).toHaveLength(1);
    expect(await s.p.db.cardPayment.count({ where: { userId: m.id } })).toBe(1);
    // When the balance does not cover it, the charge is made.
    const needed = await autoTopUpMember(s.p, { userId: m.id, idempotencyKey: key(), unlessBalanceAtLeast: $("150") });
    expect(needed).toMatchObject({ ok: true, amountCents: $("100") });
    expect(savedCardCharges(s.emulator, m.id)).toHaveLength(2);
    expect(await getBalance(s.p, m.id)).toBe($("200"));
  });

  test("saving a card turns auto top-up on (by webhook) and tops up a low balance at once", async () => {
    const m = await person("Nina", "3");
    const { clientSecret } = await startCardSetup(s.p, m.id);
    const id = clientSecret.split("_secret_")[0];
    await fetch(`${s.emulator.url}/v1/setup_intents/${id}/confirm`, {
      method: "POST",
      headers: { Authorization: `Bearer ${s.emulator.publishableKey}` },
      body: new URLSearchParams({
        client_secret: clientSecret,
        "payment_method_data[type]": "card",
        "payment_method_data[card][number]": CARDS.ok,
        "payment_method_data[card][exp_month]": "1",
        "payment_method_data[card][exp_year]": "2031",
      }),
    });
    await webhooksSettled(s.emulator);
    for (let i = 0; i < 100 && (await getBalance(s.p, m.id)) === $("3"); i++)
      await new Promise((r) => setTimeout(r, 20));
    const user = await s.p.db.user.findUniqueOrThrow({ where: { id: m.id } });
    expect(user).toMatchObject({ autoTopUpStatus: "ON", autoTopUpAmountCents: $("100") });
    expect(await getBalance(s.p, m.id)).toBe($("103"));
  });
});
