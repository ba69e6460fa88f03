// What the payments core needs from a card processor. The Stripe gateway (src/services/stripe) implements it,
// against real Stripe or the local emulator; so does the "not configured" gateway. Amounts are cents.

/** What we keep about a card charge (the original's StripeTransaction card fields). */
export interface CardCharge {
  paymentIntentId: string | null;
  chargeId: string | null;
  paymentMethodId: string | null;
  amountCents: bigint;
  currency: string;
  receiptUrl: string | null;
  balanceTransactionId: string | null;
  brand: string | null;
  country: string | null;
  expMonth: number | null;
  expYear: number | null;
  last4: string | null;
}

export interface SavedCard {
  paymentMethodId: string;
  brand: string;
  last4: string;
  expMonth: number;
  expYear: number;
}

/**
 * Every processor failure is one of these, decided in one place (the gateway):
 *  - hard_decline: the bank refused; retrying will not help;
 *  - authentication_required: the bank wants the cardholder to confirm on-session;
 *  - retryable: nothing happened (rate limit, processor busy); the same request may be sent again;
 *  - unknown: it may or may not have happened (timeout, processor error): wait for the webhook, or retry with
 *    the same idempotency key;
 *  - invalid: our request was refused as it stands (already refunded, amount too large…): nothing happened;
 *  - unavailable: no card processor is configured.
 */
export type CardFailureKind =
  | "hard_decline"
  | "authentication_required"
  | "retryable"
  | "unknown"
  | "invalid"
  | "unavailable";

export class CardGatewayError extends Error {
  constructor(
    readonly kind: CardFailureKind,
    message: string,
    readonly details: { code?: string; paymentIntentId?: string } = {},
  ) {
    super(message);
  }
}

export class WebhookSignatureError extends Error {}

/** A verified webhook event, as much of it as the handlers read. */
export interface CardWebhookEvent {
  id: string;
  type: string;
  created: number;
  object: Record<string, unknown>;
}

/** A charge of `amountCents` to a customer: a checkout's PaymentIntent, or an off-session saved-card charge. */
export interface CustomerChargeRequest {
  customerId: string;
  amountCents: bigint;
  description: string;
  metadata: Record<string, string>;
  /** Derived from our own record and saved on it before the call. */
  idempotencyKey: string;
}

export interface SetupRequest {
  customerId: string;
  description: string;
  metadata: Record<string, string>;
  idempotencyKey: string;
}

export interface RefundRequest {
  chargeId: string;
  amountCents: bigint;
  metadata: Record<string, string>;
  idempotencyKey: string;
}

/** One movement of the Stripe balance (a charge, refund, dispute withdrawal, payout…), in cents. */
export interface StripeBalanceTxn {
  id: string;
  type: string;
  reportingCategory: string;
  amountCents: bigint;
  /** What Stripe kept (negative: a fee given back). */
  feeCents: bigint;
  netCents: bigint;
  currency: string;
  /** The charge, refund, dispute or payout it belongs to. */
  source: string | null;
}

export interface StripePayoutInfo {
  id: string;
  amountCents: bigint;
  currency: string;
  /** pending, in_transit, paid, failed, canceled */
  status: string;
  automatic: boolean;
  arrivalDate: number | null;
  balanceTransactionId: string | null;
  failureCode: string | null;
  failureMessage: string | null;
}

export interface StripeDisputeInfo {
  id: string;
  chargeId: string | null;
  paymentIntentId: string | null;
  amountCents: bigint;
  currency: string;
  status: string;
  reason: string;
  evidenceDueBy: number | null;
  /** Zero, one or two: the withdrawal (negative amount) and the reinstatement (positive). */
  balanceTransactions: StripeBalanceTxn[];
}

/**
 * What only the local emulator can do (Stripe pays out on its own schedule, and card networks open disputes):
 * finance's demo actions in emulator mode.
 */
export interface EmulatorControls {
  /** Pays out the available balance now; answers the payout's id. */
  payOutNow(opts?: { fail?: boolean }): Promise<string>;
  openDispute(chargeId: string, reason: string): Promise<string>;
  closeDispute(disputeId: string, outcome: "won" | "lost"): Promise<void>;
}

export interface CardGateway {
  /** What the browser needs to load Stripe.js (or the emulator's stand-in); null when not configured. */
  readonly browser: { publishableKey: string; scriptUrl: string; origin: string } | null;
  createCustomer(req: { name: string; email: string; userId: number; idempotencyKey: string }): Promise<string>;
  customerExists(customerId: string): Promise<boolean>;
  /** A PaymentIntent the member confirms at the browser (the checkout). */
  createPaymentIntent(req: CustomerChargeRequest): Promise<{ id: string; clientSecret: string }>;
  retrievePaymentIntent(id: string): Promise<{
    id: string;
    status: string;
    clientSecret: string;
    amountCents: bigint;
    currency: string;
    metadata: Record<string, string>;
    charge: CardCharge | null;
  }>;
  /** A SetupIntent that saves a card for off-session charges. */
  createSetupIntent(req: SetupRequest): Promise<{ id: string; clientSecret: string }>;
  /** The card auto top-up charges: the customer's default card, else the newest saved one. */
  defaultCard(customerId: string): Promise<SavedCard | null>;
  setDefaultCard(customerId: string, paymentMethodId: string, idempotencyKey: string): Promise<void>;
  /** Charges the saved default card without the member present. Throws CardGatewayError. */
  chargeSavedCard(req: CustomerChargeRequest): Promise<CardCharge>;
  refund(req: RefundRequest): Promise<{ id: string; status: string }>;
  balanceTransaction(id: string): Promise<{ amountCents: bigint; feeCents: bigint; netCents: bigint }>;
  availableBalanceCents(): Promise<bigint>;
  /** Null when Stripe has no such payout. */
  retrievePayout(id: string): Promise<StripePayoutInfo | null>;
  /** The balance transactions an (automatic) payout carried, its own included. */
  payoutBalanceTransactions(payoutId: string): Promise<StripeBalanceTxn[]>;
  /** The newest payouts, newest first. */
  recentPayouts(limit: number): Promise<StripePayoutInfo[]>;
  /** Null when Stripe has no such dispute. */
  retrieveDispute(id: string): Promise<StripeDisputeInfo | null>;
  /** Present only against the local emulator. */
  readonly emulator: EmulatorControls | null;
  /** Checks the Stripe-Signature of a raw webhook body; throws WebhookSignatureError. */
  verifyWebhook(rawBody: Buffer, signature: string | undefined): CardWebhookEvent;
}

const unavailable = () =>
  Promise.reject(new CardGatewayError("unavailable", "Card payments are not set up on this system."));

/** Used when no card processor is configured: every call fails as "unavailable". */
export class UnconfiguredCardGateway implements CardGateway {
  readonly browser = null;
  createCustomer = unavailable;
  customerExists = unavailable;
  createPaymentIntent = unavailable;
  retrievePaymentIntent = unavailable;
  createSetupIntent = unavailable;
  defaultCard = unavailable;
  setDefaultCard = unavailable;
  chargeSavedCard = unavailable;
  refund = unavailable;
  balanceTransaction = unavailable;
  availableBalanceCents = unavailable;
  retrievePayout = unavailable;
  payoutBalanceTransactions = unavailable;
  recentPayouts = unavailable;
  retrieveDispute = unavailable;
  readonly emulator = null;
  verifyWebhook(): CardWebhookEvent {
    throw new WebhookSignatureError("Webhooks are not configured.");
  }
}

/** "visa card **** **** **** 4242 Exp 12/30", as statements show a card. */
export function cardLabel(c: {
  brand: string | null;
  last4: string | null;
  expMonth: number | null;
  expYear: number | null;
}) {
  const exp = c.expMonth && c.expYear ? ` Exp ${c.expMonth}/${String(c.expYear).slice(-2)}` : "";
  return `${c.brand ?? "card"} card **** **** **** ${c.last4 ?? "????"}${exp}`;
}
