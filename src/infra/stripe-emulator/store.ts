// The emulator's state: Stripe objects kept in memory, and the operations on them that the gateway and the
// browser script use. Every operation is synchronous, so two requests never interleave inside one.
// Objects are shaped like Stripe's own (../shared/fixtures/stripe/fixtures3.json), trimmed to the fields we use
// plus the usual envelope (id, object, created, livemode, metadata).
import { randomBytes } from "node:crypto";
import { plainAmount } from "../../lib/money";
import { type TestCard, testCard } from "./test-cards";

type Obj = Record<string, unknown> & { id: string };

export class StripeApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: Record<string, unknown> & { type: string; message: string },
  ) {
    super(body.message);
  }
}

const invalid = (message: string, param?: string, code?: string) =>
  new StripeApiError(code === "resource_missing" ? 404 : 400, {
    type: "invalid_request_error",
    message,
    ...(param ? { param } : {}),
    ...(code ? { code } : {}),
  });

const ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
export function stripeId(prefix: string) {
  const bytes = randomBytes(24);
  let s = "";
  for (const b of bytes) s += ALPHABET[b % ALPHABET.length];
  return `${prefix}_${s}`;
}

const now = () => Math.floor(Date.now() / 1000);

/** Stripe's Australian domestic card price, used for balance transactions: 1.75 % + 30c, rounded half up. */
export function emulatedFee(amount: number) {
  return Math.floor((amount * 175 + 5000) / 10000) + 30;
}

/** Stripe's dispute fee as the emulator charges it ($15.00, taken with the disputed amount). */
export const DISPUTE_FEE = 1500;

export type EventSink = (type: string, object: Obj) => void;

function intParam(v: unknown, param: string): number {
  const s = String(v ?? "");
  if (!/^\d+$/.test(s)) throw invalid(`Invalid integer: ${s}`, param);
  return Number(s);
}

function metadataOf(v: unknown): Record<string, string> {
  if (v === undefined || v === "") return {};
  if (typeof v !== "object" || v === null) throw invalid("Invalid metadata", "metadata");
  return Object.fromEntries(Object.entries(v).map(([k, val]) => [k, String(val)]));
}

export class EmulatorStore {
  readonly objects = new Map<string, Obj>();
  /** Which test card each payment method is. */
  private readonly cards = new Map<string, TestCard>();
  /** Test switch: when set, this is the available balance reported, whatever the charges. */
  availableOverride: number | null = null;
  /** Test switch: refunds created while this is above zero end as "failed" later, on `failPendingRefunds()`. */
  refundsToFailLater = 0;
  /** The emulator's own address, where it serves charges' receipts; set once it listens. */
  receiptBase = "";
  /** Which payout carried each balance transaction (Stripe's `payout=` filter on the list). */
  private readonly payoutOf = new Map<string, string>();

  constructor(private readonly emit: EventSink) {}

  /** Everything needed to start again where this left off (for `npm start`'s state file). */
  snapshot() {
    return {
      objects: [...this.objects.values()],
      cards: [...this.cards.entries()],
      payoutOf: [...this.payoutOf.entries()],
    };
  }

  restore(saved: ReturnType<EmulatorStore["snapshot"]>) {
    for (const o of saved.objects) this.objects.set(o.id, o);
    for (const [id, card] of saved.cards) this.cards.set(id, card);
    for (const [txn, payout] of saved.payoutOf ?? []) this.payoutOf.set(txn, payout);
  }

  get(id: string, kind: string): Obj {
    const o = this.objects.get(id);
    if (!o || o.object !== kind) throw invalid(`No such ${kind}: '${id}'`, "id", "resource_missing");
    return o;
  }

  private put<T extends Obj>(o: T): T {
    this.objects.set(o.id, o);
    return o;
  }

  private base(prefix: string, object: string) {
    return { id: stripeId(prefix), object, created: now(), livemode: false };
  }

  // --- customers ---------------------------------------------------------------------------------------------

  createCustomer(p: Record<string, unknown>) {
    const c = this.put({
      ...this.base("cus", "customer"),
      name: p.name ?? null,
      email: p.email ?? null,
      description: p.description ?? null,
      metadata: metadataOf(p.metadata),
      balance: 0,
      currency: null,
      invoice_settings: { default_payment_method: null as string | null },
    });
    this.emit("customer.created", c);
    return c;
  }

  updateCustomer(id: string, p: Record<string, unknown>) {
    const c = this.get(id, "customer");
    const settings = p.invoice_settings as Record<string, unknown> | undefined;
    if (settings && "default_payment_method" in settings) {
      const pm = String(settings.default_payment_method);
      const method = this.get(pm, "payment_method");
      if (method.customer !== id) throw invalid(`The payment method ${pm} is not attached to this customer`, "pm");
      (c.invoice_settings as Record<string, unknown>).default_payment_method = pm;
    }
    if (p.metadata) c.metadata = { ...(c.metadata as object), ...metadataOf(p.metadata) };
    if (p.name !== undefined) c.name = p.name;
    if (p.email !== undefined) c.email = p.email;
    this.emit("customer.updated", c);
    return c;
  }

  listPaymentMethods(customer: string) {
    this.get(customer, "customer");
    const data = [...this.objects.values()]
      .filter((o) => o.object === "payment_method" && o.customer === customer)
      .reverse(); // newest first, as Stripe lists them
    return { object: "list", data, has_more: false, url: "/v1/payment_methods" };
  }

  // --- payment methods ---------------------------------------------------------------------------------------

  private createPaymentMethod(data: Record<string, unknown>, billing: unknown): Obj {
    const card = (data.card ?? {}) as Record<string, unknown>;
    const tc = testCard(String(card.number ?? ""));
    if (!tc) {
      throw new StripeApiError(402, {
        type: "card_error",
        code: "incorrect_number",
        message: "Your card number is incorrect.",
        param: "number",
      });
    }
    const expMonth = Number(card.exp_month);
    const expYear = Number(card.exp_year) < 100 ? 2000 + Number(card.exp_year) : Number(card.exp_year);
    const d = new Date();
    if (!(expMonth >= 1 && expMonth <= 12) || expYear * 12 + expMonth < d.getFullYear() * 12 + d.getMonth() + 1) {
      throw new StripeApiError(402, {
        type: "card_error",
        code: "invalid_expiry_year",
        message: "Your card's expiration date is invalid or in the past.",
        param: "exp_year",
      });
    }
    const pm = this.put({
      ...this.base("pm", "payment_method"),
      type: "card",
      customer: null as string | null,
      metadata: {},
      allow_redisplay: "unspecified",
      billing_details: { address: null, email: null, name: null, phone: null, ...(billing as object) },
      card: {
        brand: tc.brand,
        display_brand: tc.brand,
        country: "AU",
        exp_month: expMonth,
        exp_year: expYear,
        last4: tc.last4,
        funding: "credit",
        fingerprint: `fp${tc.number.slice(-8)}`,
        checks: { address_line1_check: null, address_postal_code_check: null, cvc_check: "pass" },
        three_d_secure_usage: { supported: true },
        wallet: null,
      },
    });
    this.cards.set(pm.id, tc);
    return pm;
  }

  private attach(pm: Obj, customer: string) {
    if (pm.customer === customer) return;
    pm.customer = customer;
    this.emit("payment_method.attached", pm);
  }

  // --- payment intents ---------------------------------------------------------------------------------------

  createPaymentIntent(p: Record<string, unknown>) {
    const amount = intParam(p.amount, "amount");
    if (amount < 50) throw invalid("Amount must be at least 50 cents", "amount", "amount_too_small");
    if (!p.currency) throw invalid("Missing required param: currency.", "currency", "parameter_missing");
    if (p.customer) this.get(String(p.customer), "customer");
    const pi = this.put({
      ...this.base("pi", "payment_intent"),
      amount,
      amount_received: 0,
      amount_capturable: 0,
      currency: String(p.currency).toLowerCase(),
      customer: (p.customer as string) ?? null,
      description: (p.description as string) ?? null,
      metadata: metadataOf(p.metadata),
      status: "requires_payment_method",
      capture_method: "automatic",
      confirmation_method: "automatic",
      payment_method_types: ["card"],
      payment_method: null as string | null,
      latest_charge: null as string | null,
      last_payment_error: null as unknown,
      next_action: null as unknown,
      setup_future_usage: (p.setup_future_usage as string) ?? null,
      receipt_email: null,
      client_secret: "",
      canceled_at: null,
      cancellation_reason: null,
    });
    pi.client_secret = `${pi.id}_secret_${stripeId("s").slice(2)}`;
    this.emit("payment_intent.created", pi);
    if (p.payment_method) pi.payment_method = String(p.payment_method);
    if (String(p.confirm) === "true") {
      return this.confirmPaymentIntent(pi.id, { payment_method: p.payment_method, off_session: p.off_session });
    }
    return pi;
  }

  /** Confirms with a saved payment method (server or browser) or with card details typed in the browser. */
  confirmPaymentIntent(id: string, p: Record<string, unknown>) {
    const pi = this.get(id, "payment_intent");
    if (pi.status === "succeeded") {
      throw invalid("This PaymentIntent has already succeeded.", undefined, "payment_intent_unexpected_state");
    }
    let pm: Obj;
    if (p.payment_method_data) {
      const data = p.payment_method_data as Record<string, unknown>;
      pm = this.createPaymentMethod(data, data.billing_details);
    } else {
      const pmId = String(p.payment_method ?? pi.payment_method ?? "");
      if (!pmId) throw invalid("You must provide a payment method.", "payment_method", "parameter_missing");
      pm = this.get(pmId, "payment_method");
      if (pi.customer && pm.customer && pm.customer !== pi.customer) {
        throw invalid("The payment method does not belong to this PaymentIntent's customer.", "payment_method");
      }
    }
    pi.payment_method = pm.id;
    if (pi.setup_future_usage && pi.customer) this.attach(pm, String(pi.customer));
    const card = this.cards.get(pm.id)!;
    const offSession = String(p.off_session) === "true";
    if (card.behaviour === "authenticate_always") {
      if (offSession) return this.fail(pi, pm, "authentication_required", "authentication_required");
      return this.requireAction(pi, "payment_intent");
    }
    return this.charge(pi, pm, card);
  }

  /** The emulator's stand-in for the 3-D Secure pop-up: the cardholder approves or rejects. */
  authenticate(id: string, approve: boolean) {
    const o = this.objects.get(id);
    if (o?.status !== "requires_action") throw invalid("Nothing is waiting for authentication here.");
    const pm = this.get(String(o.payment_method), "payment_method");
    o.next_action = null;
    if (o.object === "setup_intent") {
      if (!approve) return this.setupFailed(o, "payment_intent_authentication_failure", undefined);
      return this.setupSucceeded(o, pm);
    }
    if (!approve) return this.fail(o, pm, "payment_intent_authentication_failure", undefined);
    return this.charge(o, pm, this.cards.get(pm.id)!);
  }

  private requireAction(o: Obj, kind: "payment_intent" | "setup_intent") {
    o.status = "requires_action";
    o.next_action = { type: "use_stripe_sdk", use_stripe_sdk: { type: "three_d_secure_redirect" } };
    this.emit(`${kind}.requires_action`, o);
    return o;
  }

  private charge(pi: Obj, pm: Obj, card: TestCard) {
    if (card.behaviour === "decline_insufficient_funds")
      return this.fail(pi, pm, "card_declined", "insufficient_funds");
    if (card.behaviour === "attach_then_decline") return this.fail(pi, pm, "card_declined", "generic_decline");
    const amount = pi.amount as number;
    const fee = emulatedFee(amount);
    const ch = this.newCharge(pi, pm, "succeeded");
    const txn = this.balanceTransaction({
      type: "charge",
      category: "charge",
      amount,
      fee,
      source: ch.id,
      description: pi.description,
      feeDescription: "Stripe processing fees",
    });
    ch.balance_transaction = txn.id;
    pi.status = "succeeded";
    pi.amount_received = amount;
    pi.latest_charge = ch.id;
    pi.last_payment_error = null;
    this.emit("charge.succeeded", ch);
    this.emit("payment_intent.succeeded", pi);
    if (card.behaviour === "dispute_fraudulent") this.openDispute(ch.id, "fraudulent");
    return pi;
  }

  /** A movement of the account's balance; all of them add up to the balance (fee > 0: Stripe keeps it). */
  private balanceTransaction(t: {
    type: string;
    category: string;
    amount: number;
    fee: number;
    source: string;
    description: unknown;
    feeDescription?: string;
  }) {
    return this.put({
      ...this.base("txn", "balance_transaction"),
      amount: t.amount,
      currency: "aud",
      description: t.description ?? null,
      fee: t.fee,
      fee_details: t.fee
        ? [{ amount: t.fee, currency: "aud", description: t.feeDescription ?? "Stripe fee", type: "stripe_fee" }]
        : [],
      net: t.amount - t.fee,
      reporting_category: t.category,
      source: t.source,
      status: "available",
      type: t.type,
      available_on: now(),
      exchange_rate: null,
    });
  }

  private newCharge(pi: Obj, pm: Obj, status: string) {
    const card = pm.card as Record<string, unknown>;
    const envelope = this.base("ch", "charge");
    const ch = this.put({
      ...envelope,
      amount: pi.amount,
      amount_captured: status === "succeeded" ? pi.amount : 0,
      amount_refunded: 0,
      balance_transaction: null as string | null,
      billing_details: pm.billing_details,
      captured: status === "succeeded",
      currency: pi.currency,
      customer: pi.customer,
      description: pi.description,
      disputed: false,
      failure_code: null as string | null,
      failure_message: null as string | null,
      metadata: { ...(pi.metadata as object) },
      outcome: { network_status: "approved_by_network", reason: null as string | null, type: "authorized" },
      paid: status === "succeeded",
      payment_intent: pi.id,
      payment_method: pm.id,
      payment_method_details: { type: "card", card: { ...card, checks: undefined } },
      // Stripe hosts receipts at pay.stripe.com; the emulator serves its own (see receipt-page.ts).
      receipt_url: `${this.receiptBase}/receipts/payment/${envelope.id}`,
      refunded: false,
      status,
    });
    return ch;
  }

  private fail(pi: Obj, pm: Obj, code: string, declineCode: string | undefined): never {
    const message =
      code === "authentication_required"
        ? "Your card was declined. This transaction requires authentication."
        : code === "payment_intent_authentication_failure"
          ? "We are unable to authenticate your payment method. Please choose a different payment method and try again."
          : declineCode === "insufficient_funds"
            ? "Your card has insufficient funds."
            : "Your card was declined.";
    const ch = this.newCharge(pi, pm, "failed");
    ch.failure_code = code;
    ch.failure_message = message;
    ch.outcome = { network_status: "declined_by_network", reason: declineCode ?? null, type: "issuer_declined" };
    pi.status = "requires_payment_method";
    pi.latest_charge = ch.id;
    const error = {
      type: "card_error",
      code,
      ...(declineCode ? { decline_code: declineCode } : {}),
      message,
      charge: ch.id,
      payment_method: pm,
    };
    pi.last_payment_error = error;
    this.emit("charge.failed", ch);
    this.emit("payment_intent.payment_failed", pi);
    throw new StripeApiError(402, { ...error, payment_intent: pi });
  }

  // --- setup intents -----------------------------------------------------------------------------------------

  createSetupIntent(p: Record<string, unknown>) {
    if (p.customer) this.get(String(p.customer), "customer");
    const si = this.put({
      ...this.base("seti", "setup_intent"),
      customer: (p.customer as string) ?? null,
      description: (p.description as string) ?? null,
      metadata: metadataOf(p.metadata),
      status: "requires_payment_method",
      usage: (p.usage as string) ?? "off_session",
      payment_method: null as string | null,
      payment_method_types: ["card"],
      last_setup_error: null as unknown,
      next_action: null as unknown,
      latest_attempt: null,
      client_secret: "",
    });
    si.client_secret = `${si.id}_secret_${stripeId("s").slice(2)}`;
    this.emit("setup_intent.created", si);
    return si;
  }

  confirmSetupIntent(id: string, p: Record<string, unknown>) {
    const si = this.get(id, "setup_intent");
    if (si.status === "succeeded") {
      throw invalid("This SetupIntent has already succeeded.", undefined, "setup_intent_unexpected_state");
    }
    const data = (p.payment_method_data ?? {}) as Record<string, unknown>;
    const pm = this.createPaymentMethod(data, data.billing_details);
    si.payment_method = pm.id;
    const card = this.cards.get(pm.id)!;
    if (card.behaviour === "decline_insufficient_funds") {
      return this.setupFailed(si, "card_declined", "insufficient_funds");
    }
    if (card.behaviour === "authenticate_always" || card.behaviour === "authenticate_setup") {
      return this.requireAction(si, "setup_intent");
    }
    return this.setupSucceeded(si, pm);
  }

  private setupSucceeded(si: Obj, pm: Obj) {
    if (si.customer) this.attach(pm, String(si.customer));
    si.status = "succeeded";
    si.last_setup_error = null;
    this.emit("setup_intent.succeeded", si);
    return si;
  }

  private setupFailed(si: Obj, code: string, declineCode: string | undefined): never {
    const message =
      declineCode === "insufficient_funds"
        ? "Your card has insufficient funds."
        : "We are unable to authenticate your payment method.";
    si.status = "requires_payment_method";
    si.last_setup_error = { type: "card_error", code, decline_code: declineCode, message };
    this.emit("setup_intent.setup_failed", si);
    throw new StripeApiError(402, { type: "card_error", code, decline_code: declineCode, message, setup_intent: si });
  }

  // --- refunds and balance -----------------------------------------------------------------------------------

  createRefund(p: Record<string, unknown>) {
    let chargeId = p.charge ? String(p.charge) : null;
    if (!chargeId && p.payment_intent) {
      chargeId = String(this.get(String(p.payment_intent), "payment_intent").latest_charge ?? "");
    }
    if (!chargeId) throw invalid("One of charge or payment_intent is required.", "charge", "parameter_missing");
    const ch = this.get(chargeId, "charge");
    if (ch.status !== "succeeded") throw invalid(`Charge ${ch.id} has not succeeded.`, "charge");
    const left = (ch.amount as number) - (ch.amount_refunded as number);
    if (left <= 0) throw invalid(`Charge ${ch.id} has already been refunded.`, "charge", "charge_already_refunded");
    const amount = p.amount === undefined ? left : intParam(p.amount, "amount");
    if (amount < 1) throw invalid("Refund amount must be positive.", "amount");
    if (amount > left) {
      throw invalid(
        `Refund amount ($${plainAmount(amount)}) is greater than unrefunded amount on charge ($${plainAmount(left)})`,
        "amount",
      );
    }
    if (this.available() < amount) {
      throw invalid("Insufficient funds in Stripe account.", "amount", "balance_insufficient");
    }
    const failLater = this.refundsToFailLater > 0;
    if (failLater) this.refundsToFailLater -= 1;
    const re = this.put({
      ...this.base("re", "refund"),
      amount,
      balance_transaction: null as string | null,
      charge: ch.id,
      currency: ch.currency,
      metadata: metadataOf(p.metadata),
      payment_intent: ch.payment_intent,
      reason: (p.reason as string) ?? null,
      receipt_number: null,
      status: failLater ? "pending" : "succeeded",
      failure_reason: null as string | null,
      destination_details: { type: "card", card: { type: "reversal" } },
    });
    ch.amount_refunded = (ch.amount_refunded as number) + amount;
    ch.refunded = ch.amount_refunded === ch.amount;
    re.balance_transaction = this.balanceTransaction({
      type: "refund",
      category: "refund",
      amount: -amount,
      fee: 0,
      source: re.id,
      description: "REFUND FOR CHARGE",
    }).id;
    this.emit("refund.created", re);
    this.emit("charge.refunded", ch);
    return re;
  }

  /** Test switch: pending refunds made while `refundsToFailLater` was set now fail, as a bank can days later. */
  failPendingRefunds() {
    for (const re of this.objects.values()) {
      if (re.object !== "refund" || re.status !== "pending") continue;
      re.status = "failed";
      re.failure_reason = "expired_or_canceled_card";
      const ch = this.get(String(re.charge), "charge");
      ch.amount_refunded = (ch.amount_refunded as number) - (re.amount as number);
      ch.refunded = false;
      re.failure_balance_transaction = this.balanceTransaction({
        type: "refund_failure",
        category: "refund_failure",
        amount: re.amount as number,
        fee: 0,
        source: re.id,
        description: "REFUND FAILURE",
      }).id;
      this.emit("refund.failed", re);
      this.emit("refund.updated", re);
    }
  }

  private available() {
    if (this.availableOverride !== null) return this.availableOverride;
    let total = 0;
    for (const o of this.objects.values()) {
      if (o.object === "balance_transaction") total += o.net as number;
      // Refunds saved by an emulator that did not yet give them balance transactions.
      if (o.object === "refund" && !o.balance_transaction && o.status !== "failed") total -= o.amount as number;
    }
    return total;
  }

  balance() {
    return {
      object: "balance",
      livemode: false,
      available: [{ amount: this.available(), currency: "aud", source_types: { card: this.available() } }],
      pending: [{ amount: 0, currency: "aud", source_types: { card: 0 } }],
      connect_reserved: [{ amount: 0, currency: "aud" }],
    };
  }

  // --- payouts -----------------------------------------------------------------------------------------------

  /**
   * Pays out the whole available balance now, as Stripe's automatic payout does on its schedule: every balance
   * transaction not yet paid out goes into it. `fail`: the bank refuses it (the money comes back to the balance).
   */
  createPayout(p: { fail?: boolean } = {}) {
    const swept = [...this.objects.values()].filter(
      (o) => o.object === "balance_transaction" && !this.payoutOf.has(o.id),
    );
    const amount = swept.reduce((sum, o) => sum + (o.net as number), 0);
    if (amount <= 0) throw invalid("There is no available balance to pay out.", "amount", "balance_insufficient");
    const po = this.put({
      ...this.base("po", "payout"),
      amount,
      application_fee: null,
      application_fee_amount: null,
      arrival_date: now(),
      automatic: true,
      balance_transaction: null as string | null,
      currency: "aud",
      description: "STRIPE PAYOUT",
      destination: "ba_emulator_bank_account",
      failure_balance_transaction: null as string | null,
      failure_code: null as string | null,
      failure_message: null as string | null,
      metadata: {},
      method: "standard",
      original_payout: null,
      reconciliation_status: "completed",
      reversed_by: null,
      source_type: "card",
      statement_descriptor: null,
      status: "pending",
      type: "bank_account",
    });
    const own = this.balanceTransaction({
      type: "payout",
      category: "payout",
      amount: -amount,
      fee: 0,
      source: po.id,
      description: "STRIPE PAYOUT",
    });
    po.balance_transaction = own.id;
    for (const o of [...swept, own]) this.payoutOf.set(o.id, po.id);
    this.emit("payout.created", po);
    if (p.fail) return this.failPayout(po.id);
    po.status = "paid";
    this.emit("payout.paid", po);
    return po;
  }

  /** The bank returns a payout (also one already reported paid, as Stripe documents): the money is back. */
  failPayout(id: string) {
    const po = this.get(id, "payout");
    if (po.status === "failed") throw invalid(`Payout ${id} has already failed.`);
    po.failure_balance_transaction = this.balanceTransaction({
      type: "payout_failure",
      category: "payout_reversal",
      amount: po.amount as number,
      fee: 0,
      source: po.id,
      description: "STRIPE PAYOUT FAILURE",
    }).id;
    po.status = "failed";
    po.failure_code = "account_closed";
    po.failure_message = "The bank account has been closed.";
    this.emit("payout.failed", po);
    return po;
  }

  /** Stripe's list shape, newest first, with `limit` and `starting_after`. */
  list(kind: string, url: string, q: Record<string, unknown>, keep: (o: Obj) => boolean = () => true) {
    let all = [...this.objects.values()].filter((o) => o.object === kind && keep(o)).reverse();
    if (q.starting_after) all = all.slice(all.findIndex((o) => o.id === q.starting_after) + 1);
    const limit = Math.min(100, Math.max(1, Number(q.limit ?? 10) || 10));
    return { object: "list", data: all.slice(0, limit), has_more: all.length > limit, url };
  }

  listBalanceTransactions(q: Record<string, unknown>) {
    return this.list("balance_transaction", "/v1/balance_transactions", q, (o) => {
      if (q.payout !== undefined && this.payoutOf.get(o.id) !== String(q.payout)) return false;
      return q.type === undefined || o.type === String(q.type);
    });
  }

  // --- disputes ----------------------------------------------------------------------------------------------

  /**
   * The cardholder disputes a charge: Stripe opens the dispute and at once withdraws the disputed amount and its
   * dispute fee from the balance (charge.dispute.created, then charge.dispute.funds_withdrawn).
   */
  openDispute(chargeId: string, reason: string) {
    const ch = this.get(chargeId, "charge");
    if (ch.status !== "succeeded") throw invalid(`Charge ${ch.id} has not succeeded.`, "charge");
    if (ch.disputed) throw invalid(`Charge ${ch.id} is already disputed.`, "charge");
    const amount = (ch.amount as number) - (ch.amount_refunded as number);
    if (amount <= 0) throw invalid(`Charge ${ch.id} has been refunded in full.`, "charge");
    const card = (ch.payment_method_details as { card?: { brand?: string } }).card;
    const dp = this.put({
      ...this.base("dp", "dispute"),
      amount,
      balance_transactions: [] as Obj[],
      charge: ch.id,
      currency: ch.currency,
      evidence: { customer_name: null, product_description: null, uncategorized_text: null },
      evidence_details: { due_by: now() + 7 * 86_400, has_evidence: false, past_due: false, submission_count: 0 },
      is_charge_refundable: false,
      metadata: {},
      payment_intent: ch.payment_intent,
      payment_method_details: {
        type: "card",
        card: { brand: card?.brand ?? "visa", case_type: "chargeback", network_reason_code: "10.4", network: "visa" },
      },
      reason,
      status: "needs_response",
    });
    ch.disputed = true;
    this.emit("charge.dispute.created", dp);
    const withdrawn = this.balanceTransaction({
      type: "adjustment",
      category: "dispute",
      amount: -amount,
      fee: DISPUTE_FEE,
      source: dp.id,
      description: `Chargeback withdrawal for ${ch.id}`,
      feeDescription: "Dispute fee",
    });
    (dp.balance_transactions as Obj[]).push({ ...withdrawn });
    this.emit("charge.dispute.funds_withdrawn", dp);
    return dp;
  }

  /**
   * The card network decides. Won: the disputed amount comes back and, as the emulator plays it, the dispute fee
   * too (charge.dispute.funds_reinstated); then charge.dispute.closed either way.
   */
  closeDispute(id: string, outcome: "won" | "lost") {
    const dp = this.get(id, "dispute");
    if (dp.status === "won" || dp.status === "lost") throw invalid(`Dispute ${id} is already closed.`);
    if (outcome === "won") {
      const back = this.balanceTransaction({
        type: "adjustment",
        category: "dispute_reversal",
        amount: dp.amount as number,
        fee: -DISPUTE_FEE,
        source: dp.id,
        description: `Chargeback reversal for ${String(dp.charge)}`,
        feeDescription: "Dispute fee refund",
      });
      (dp.balance_transactions as Obj[]).push({ ...back });
      dp.status = "won";
      this.emit("charge.dispute.funds_reinstated", dp);
    } else dp.status = "lost";
    this.emit("charge.dispute.closed", dp);
    return dp;
  }

  /** A copy of an object with the listed fields (latest_charge, payment_method…) expanded. */
  expand(o: Obj, fields: unknown): Obj {
    const list = Array.isArray(fields) ? fields.map(String) : fields ? [String(fields)] : [];
    const out: Obj = { ...o };
    for (const f of list) {
      const id = out[f];
      if (typeof id === "string" && this.objects.has(id)) out[f] = { ...this.objects.get(id)! };
    }
    return out;
  }
}
