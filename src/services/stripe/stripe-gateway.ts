// The one module that imports `stripe`. It implements the CardGateway with the official SDK, against Stripe or
// the local emulator (same code, different host), with the API version pinned, every POST carrying the
// idempotency key the caller derived from its own record, and every Stripe error mapped here to a
// CardFailureKind.
import Stripe from "stripe";
import {
  type CardCharge,
  type CardGateway,
  CardGatewayError,
  type CardWebhookEvent,
  type CustomerChargeRequest,
  type EmulatorControls,
  type RefundRequest,
  type SavedCard,
  type SetupRequest,
  type StripeBalanceTxn,
  type StripeDisputeInfo,
  type StripePayoutInfo,
  WebhookSignatureError,
} from "../payments/card-gateway";

/** Pinned: Stripe objects change shape between versions; the webhook endpoint must be set to the same one. */
export const STRIPE_API_VERSION = "2026-10-28.endive";
const CURRENCY = "aud";
/** Stripe's own default: a signature older than five minutes is refused (replay protection). */
const WEBHOOK_TOLERANCE_SECONDS = 300;

export interface StripeGatewayConfig {
  secretKey: string;
  publishableKey: string;
  webhookSecret: string;
  /** Stripe.js URL: https://js.stripe.com/v3/, or the emulator's stand-in. */
  scriptUrl?: string;
  /** The emulator's address; Stripe's own when not given. */
  apiBase?: string;
  timeoutMs?: number;
  /** True when `apiBase` is the local emulator: its demo controls (payouts, disputes) are then offered. */
  emulator?: boolean;
}

/** Maps any error from the SDK to the failure kinds the payments core acts on. */
export function mapStripeError(e: unknown): CardGatewayError {
  if (e instanceof CardGatewayError) return e;
  if (!(e instanceof Stripe.errors.StripeError)) {
    return new CardGatewayError("unknown", e instanceof Error ? e.message : String(e));
  }
  const raw = e.raw as { payment_intent?: { id?: string }; decline_code?: string } | undefined;
  const details = { code: e.code, paymentIntentId: raw?.payment_intent?.id };
  const message = e.message;
  if (e instanceof Stripe.errors.StripeCardError) {
    const soft = e.code === "authentication_required" || raw?.decline_code === "authentication_required";
    return new CardGatewayError(soft ? "authentication_required" : "hard_decline", message, details);
  }
  if (e instanceof Stripe.errors.StripeRateLimitError || e.code === "lock_timeout") {
    return new CardGatewayError("retryable", message, details);
  }
  if (e instanceof Stripe.errors.StripeIdempotencyError) return new CardGatewayError("invalid", message, details);
  if (e instanceof Stripe.errors.StripeInvalidRequestError) return new CardGatewayError("invalid", message, details);
  if (e instanceof Stripe.errors.StripeAuthenticationError || e instanceof Stripe.errors.StripePermissionError) {
    return new CardGatewayError("unavailable", "The card processor refused our credentials.", details);
  }
  // Connection errors and Stripe's own 5xx: the request may have been carried out.
  return new CardGatewayError("unknown", message, details);
}

function chargeFrom(pi: Stripe.PaymentIntent, charge: Stripe.Charge | null): CardCharge {
  const card = charge?.payment_method_details?.card;
  const pm =
    charge?.payment_method ?? (typeof pi.payment_method === "string" ? pi.payment_method : pi.payment_method?.id);
  const txn = charge?.balance_transaction;
  return {
    paymentIntentId: pi.id,
    chargeId: charge?.id ?? null,
    paymentMethodId: pm ?? null,
    amountCents: BigInt(charge?.amount ?? pi.amount),
    currency: charge?.currency ?? pi.currency,
    receiptUrl: charge?.receipt_url ?? null,
    balanceTransactionId: typeof txn === "string" ? txn : (txn?.id ?? null),
    brand: card?.brand ?? null,
    country: card?.country ?? null,
    expMonth: card?.exp_month ?? null,
    expYear: card?.exp_year ?? null,
    last4: card?.last4 ?? null,
  };
}

const idOf = (v: string | { id: string } | null | undefined) => (typeof v === "string" ? v : (v?.id ?? null));

function balanceTxnFrom(t: Stripe.BalanceTransaction): StripeBalanceTxn {
  return {
    id: t.id,
    type: t.type,
    reportingCategory: t.reporting_category,
    amountCents: BigInt(t.amount),
    feeCents: BigInt(t.fee),
    netCents: BigInt(t.net),
    currency: t.currency,
    source: idOf(t.source as string | { id: string } | null),
  };
}

function payoutFrom(po: Stripe.Payout): StripePayoutInfo {
  return {
    id: po.id,
    amountCents: BigInt(po.amount),
    currency: po.currency,
    status: po.status,
    automatic: po.automatic,
    arrivalDate: po.arrival_date ?? null,
    balanceTransactionId: idOf(po.balance_transaction),
    failureCode: po.failure_code ?? null,
    failureMessage: po.failure_message ?? null,
  };
}

/** A Stripe "No such …" answer, which for a look-up by id means: not there. */
const isMissing = (e: unknown) => e instanceof Stripe.errors.StripeError && e.code === "resource_missing";

function latestCharge(pi: Stripe.PaymentIntent): Stripe.Charge | null {
  return pi.latest_charge && typeof pi.latest_charge === "object" ? pi.latest_charge : null;
}

function savedCard(pm: Stripe.PaymentMethod): SavedCard | null {
  if (!pm.card) return null;
  return {
    paymentMethodId: pm.id,
    brand: pm.card.brand,
    last4: pm.card.last4,
    expMonth: pm.card.exp_month,
    expYear: pm.card.exp_year,
  };
}

/** The `t=` timestamps of a Stripe-Signature header (the SDK has already found one that signs the body). */
function signedAt(header: string): number[] {
  return header
    .split(",")
    .filter((part) => part.startsWith("t="))
    .map((part) => Number.parseInt(part.slice(2), 10)); // as the SDK reads it
}

export class StripeGateway implements CardGateway {
  readonly browser: CardGateway["browser"];
  private readonly stripe: Stripe;

  constructor(private readonly config: StripeGatewayConfig) {
    const base = config.apiBase ? new URL(config.apiBase) : null;
    this.stripe = new Stripe(config.secretKey, {
      apiVersion: STRIPE_API_VERSION,
      // Retries are ours to decide (with the same idempotency key); the SDK's would hide outcomes from us.
      maxNetworkRetries: 0,
      telemetry: false,
      timeout: config.timeoutMs ?? 30_000,
      ...(base
        ? { host: base.hostname, port: base.port, protocol: base.protocol.replace(":", "") as "http" | "https" }
        : {}),
    });
    const scriptUrl = config.scriptUrl ?? "https://js.stripe.com/v3/";
    this.browser = {
      publishableKey: config.publishableKey,
      scriptUrl,
      origin: config.apiBase ? new URL(config.apiBase).origin : "https://api.stripe.com",
    };
  }

  private async call<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      throw mapStripeError(e);
    }
  }

  createCustomer(req: { name: string; email: string; userId: number; idempotencyKey: string }) {
    return this.call(async () => {
      const c = await this.stripe.customers.create(
        { name: req.name, email: req.email, metadata: { bc_user_id: String(req.userId) } },
        { idempotencyKey: req.idempotencyKey },
      );
      return c.id;
    });
  }

  async customerExists(customerId: string) {
    try {
      const c = await this.stripe.customers.retrieve(customerId);
      return !("deleted" in c && c.deleted);
    } catch (e) {
      const mapped = mapStripeError(e);
      if (mapped.kind === "invalid") return false;
      throw mapped;
    }
  }

  createPaymentIntent(req: CustomerChargeRequest) {
    return this.call(async () => {
      const pi = await this.stripe.paymentIntents.create(
        {
          amount: Number(req.amountCents),
          currency: CURRENCY,
          customer: req.customerId,
          description: req.description,
          metadata: req.metadata,
        },
        { idempotencyKey: req.idempotencyKey },
      );
      return { id: pi.id, clientSecret: pi.client_secret ?? "" };
    });
  }

  retrievePaymentIntent(id: string) {
    return this.call(async () => {
      const pi = await this.stripe.paymentIntents.retrieve(id, { expand: ["latest_charge"] });
      const charge = latestCharge(pi);
      return {
        id: pi.id,
        status: pi.status,
        clientSecret: pi.client_secret ?? "",
        amountCents: BigInt(pi.amount),
        currency: pi.currency,
        metadata: pi.metadata,
        charge: charge && charge.status === "succeeded" ? chargeFrom(pi, charge) : null,
      };
    });
  }

  createSetupIntent(req: SetupRequest) {
    return this.call(async () => {
      const si = await this.stripe.setupIntents.create(
        {
          customer: req.customerId,
          description: req.description,
          metadata: req.metadata,
          usage: "off_session",
        },
        { idempotencyKey: req.idempotencyKey },
      );
      return { id: si.id, clientSecret: si.client_secret ?? "" };
    });
  }

  defaultCard(customerId: string) {
    return this.call(async () => {
      const customer = await this.stripe.customers.retrieve(customerId);
      if ("deleted" in customer && customer.deleted) return null;
      const chosen = customer.invoice_settings?.default_payment_method;
      const list = await this.stripe.paymentMethods.list({ customer: customerId, type: "card" });
      const cards = list.data.map(savedCard).filter((c): c is SavedCard => c !== null);
      const id = typeof chosen === "string" ? chosen : chosen?.id;
      return cards.find((c) => c.paymentMethodId === id) ?? cards[0] ?? null;
    });
  }

  setDefaultCard(customerId: string, paymentMethodId: string, idempotencyKey: string) {
    return this.call(async () => {
      await this.stripe.customers.update(
        customerId,
        { invoice_settings: { default_payment_method: paymentMethodId } },
        { idempotencyKey },
      );
    });
  }

  chargeSavedCard(req: CustomerChargeRequest) {
    return this.call(async () => {
      const card = await this.defaultCard(req.customerId);
      if (!card) throw new CardGatewayError("hard_decline", "No saved card was found.");
      const pi = await this.stripe.paymentIntents.create(
        {
          amount: Number(req.amountCents),
          currency: CURRENCY,
          customer: req.customerId,
          payment_method: card.paymentMethodId,
          description: req.description,
          metadata: req.metadata,
          confirm: true,
          off_session: true,
          expand: ["latest_charge"],
        },
        { idempotencyKey: req.idempotencyKey },
      );
      if (pi.status === "succeeded") return chargeFrom(pi, latestCharge(pi));
      if (pi.status === "requires_action") {
        throw new CardGatewayError("authentication_required", "Your bank needs you to confirm this payment.", {
          paymentIntentId: pi.id,
        });
      }
      // processing and the like: Stripe will tell us through the webhook.
      throw new CardGatewayError("unknown", `The payment is ${pi.status}.`, { paymentIntentId: pi.id });
    });
  }

  refund(req: RefundRequest) {
    return this.call(async () => {
      const r = await this.stripe.refunds.create(
        { charge: req.chargeId, amount: Number(req.amountCents), metadata: req.metadata },
        { idempotencyKey: req.idempotencyKey },
      );
      return { id: r.id, status: r.status ?? "pending" };
    });
  }

  balanceTransaction(id: string) {
    return this.call(async () => {
      const t = await this.stripe.balanceTransactions.retrieve(id);
      return { amountCents: BigInt(t.amount), feeCents: BigInt(t.fee), netCents: BigInt(t.net) };
    });
  }

  availableBalanceCents() {
    return this.call(async () => {
      const b = await this.stripe.balance.retrieve();
      return BigInt(b.available.find((a) => a.currency === CURRENCY)?.amount ?? 0);
    });
  }

  async retrievePayout(id: string) {
    try {
      return payoutFrom(await this.stripe.payouts.retrieve(id));
    } catch (e) {
      if (isMissing(e)) return null;
      throw mapStripeError(e);
    }
  }

  payoutBalanceTransactions(payoutId: string) {
    return this.call(async () => {
      const list = await this.stripe.balanceTransactions
        .list({ payout: payoutId, limit: 100 })
        .autoPagingToArray({ limit: 10_000 });
      return list.map(balanceTxnFrom);
    });
  }

  recentPayouts(limit: number) {
    return this.call(async () => (await this.stripe.payouts.list({ limit })).data.map(payoutFrom));
  }

  async retrieveDispute(id: string) {
    try {
      const d = await this.stripe.disputes.retrieve(id);
      return {
        id: d.id,
        chargeId: idOf(d.charge),
        paymentIntentId: idOf(d.payment_intent),
        amountCents: BigInt(d.amount),
        currency: d.currency,
        status: d.status,
        reason: d.reason,
        evidenceDueBy: d.evidence_details?.due_by ?? null,
        balanceTransactions: d.balance_transactions.map(balanceTxnFrom),
      } satisfies StripeDisputeInfo;
    } catch (e) {
      if (isMissing(e)) return null;
      throw mapStripeError(e);
    }
  }

  get emulator(): EmulatorControls | null {
    if (!this.config.emulator) return null;
    const post = (path: string, params: Record<string, string>) =>
      this.call(() => this.stripe.rawRequest("POST", path, params) as Promise<{ id: string }>);
    return {
      payOutNow: async (opts = {}) => (await post("/v1/emulator/payouts", { fail: String(!!opts.fail) })).id,
      openDispute: async (chargeId, reason) => (await post("/v1/emulator/disputes", { charge: chargeId, reason })).id,
      closeDispute: async (disputeId, outcome) => {
        await post(`/v1/emulator/disputes/${encodeURIComponent(disputeId)}/close`, { outcome });
      },
    };
  }

  verifyWebhook(rawBody: Buffer, signature: string | undefined): CardWebhookEvent {
    if (!signature) throw new WebhookSignatureError("No Stripe-Signature header.");
    try {
      const event = this.stripe.webhooks.constructEvent(
        rawBody,
        signature,
        this.config.webhookSecret,
        WEBHOOK_TOLERANCE_SECONDS,
      );
      // The SDK only refuses signatures that are too old; one stamped further ahead of our clock than the same
      // tolerance is refused too (a replay window must not be opened by signing with a future time).
      const ahead = Math.max(...signedAt(signature)) - Math.floor(Date.now() / 1000);
      if (!(ahead <= WEBHOOK_TOLERANCE_SECONDS)) {
        throw new WebhookSignatureError(`Timestamp ${ahead} seconds in the future is outside the tolerance zone.`);
      }
      const object = event.data.object as unknown as Record<string, unknown>;
      return { id: event.id, type: event.type, created: event.created, object };
    } catch (e) {
      if (e instanceof WebhookSignatureError) throw e;
      throw new WebhookSignatureError(e instanceof Error ? e.message : "Invalid signature.");
    }
  }
}
