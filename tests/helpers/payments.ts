// The payments core on a private database, talking through the real Stripe gateway (the official SDK, over
// HTTP) to a private Stripe emulator. Helpers save test cards for members and count what was charged.
import type { Database } from "../../src/db/client";
import { type StripeEmulator, startStripeEmulator } from "../../src/infra/stripe-emulator";
import { createLogger } from "../../src/lib/logger";
import type { LedgerWriterOptions } from "../../src/services/ledger/ledger-writer";
import { UnconfiguredCardGateway } from "../../src/services/payments/card-gateway";
import { createPayments, type Payments } from "../../src/services/payments/context";
import { adjustMemberBalance, adjustOrganisationBalance } from "../../src/services/payments/manual-adjustment";
import { paymentApiBatch } from "../../src/services/payments/payment-api-batch";
import { StripeGateway } from "../../src/services/stripe/stripe-gateway";
import { createTestDatabase, type TestDatabase } from "./db";

export const CARDS = {
  ok: "4242424242424242",
  insufficientFunds: "4000000000009995",
  authentication: "4000002760003184",
  declinesWhenCharged: "4000000000000341",
} as const;

export interface TestPayments {
  p: Payments;
  emulator: StripeEmulator;
  database: TestDatabase;
  close: () => Promise<void>;
}

export function gatewayFor(emulator: StripeEmulator) {
  return new StripeGateway({
    secretKey: emulator.secretKey,
    publishableKey: emulator.publishableKey,
    webhookSecret: emulator.webhookSecret,
    apiBase: emulator.url,
    scriptUrl: emulator.scriptUrl,
    emulator: true,
  });
}

/** A payments core on an open database, charging cards through `emulator`. */
export function paymentsOn(database: Database, emulator: StripeEmulator, ledger: LedgerWriterOptions = {}) {
  const p = createPayments({
    db: database.prisma,
    pool: database.pool,
    gateway: gatewayFor(emulator),
    logger: createLogger("silent"),
    timeZone: "Australia/Sydney",
    ledger,
  });
  return { p };
}

/** A payments core on an open database with no card processor: for tests that only book and read balances. */
export function paymentsWithoutCards(database: Database) {
  return createPayments({
    db: database.prisma,
    pool: database.pool,
    gateway: new UnconfiguredCardGateway(),
    logger: createLogger("silent"),
    timeZone: "Australia/Sydney",
  });
}

export async function startPayments(opts: { max?: number; connections?: number } = {}): Promise<TestPayments> {
  const database = await createTestDatabase({ max: opts.max ?? 10 });
  const emulator = await startStripeEmulator();
  const { p } = paymentsOn(database, emulator, { connections: opts.connections ?? 2 });
  return {
    p,
    emulator,
    database,
    close: async () => {
      await emulator.close();
      await database.drop();
    },
  };
}

/**
 * Saves `number` as the member's card at the emulator (as the set-up page would) and makes it the default; with
 * `autoTopUpCents`, switches auto top-up on with that amount (as the webhook would).
 */
export async function saveCard(
  t: { p: Payments; emulator: StripeEmulator },
  userId: number,
  number: string = CARDS.ok,
  autoTopUpCents: bigint | null = 10_000n,
) {
  const store = t.emulator.store;
  const user = await t.p.db.user.findUniqueOrThrow({ where: { id: userId } });
  const customerId =
    user.stripeCustomerId && store.objects.has(user.stripeCustomerId)
      ? user.stripeCustomerId
      : store.createCustomer({ name: `${user.firstName} ${user.lastName}`, email: user.email }).id;
  const si = store.createSetupIntent({ customer: customerId });
  const confirmed = store.confirmSetupIntent(si.id, {
    payment_method_data: { type: "card", card: { number, exp_month: "12", exp_year: "2030" } },
  });
  // The cardholder passes the bank's check when saving (the 3-D Secure test cards ask for it).
  if (confirmed.status === "requires_action") store.authenticate(si.id, true);
  store.updateCustomer(customerId, { invoice_settings: { default_payment_method: String(si.payment_method) } });
  await t.p.db.user.update({
    where: { id: userId },
    data: {
      stripeCustomerId: customerId,
      ...(autoTopUpCents ? { autoTopUpStatus: "ON", autoTopUpAmountCents: autoTopUpCents } : {}),
    },
  });
  return customerId;
}

/** PaymentIntents made at the emulator for a member's saved card (each is one attempt to charge it). */
export function savedCardCharges(emulator: StripeEmulator, userId: number) {
  return [...emulator.store.objects.values()].filter(
    (o) =>
      o.object === "payment_intent" &&
      (o.metadata as Record<string, string>).bc_user_id === String(userId) &&
      (o.metadata as Record<string, string>).bc_kind === "saved_card",
  );
}

let keySeq = 0;
export const key = (prefix = "t") => `${prefix}-${process.pid}-${++keySeq}-${Math.random().toString(36).slice(2, 8)}`;

/** Gives a member a starting balance, as finance would (a manual adjustment by another user). */
export async function fundMember(p: Payments, userId: number, cents: bigint, actorUserId: number) {
  await adjustMemberBalance(p, {
    userId,
    amountCents: cents,
    description: "Opening balance",
    actorUserId,
    idempotencyKey: key("fund"),
  });
}

/** A member transfer, booked as the transfer page books it. */
export const memberTransfer = (p: Payments, fromId: number, toId: number, cents: bigint, description: string) =>
  paymentApiBatch(p, {
    memberId: fromId,
    otherMemberId: toId,
    amountCents: cents,
    description,
    type: "Member Transfer",
    idempotencyKey: key(),
  });

/** A payment from a member's balance to a club. */
export const payClub = (p: Payments, memberId: number, organisationId: number, cents: bigint, description: string) =>
  paymentApiBatch(p, { memberId, organisationId, amountCents: cents, description, idempotencyKey: key() });

export async function fundOrganisation(p: Payments, organisationId: number, cents: bigint, actorUserId: number) {
  await adjustOrganisationBalance(p, {
    organisationId,
    amountCents: cents,
    description: "Opening balance",
    actorUserId,
    idempotencyKey: key("fund"),
  });
}

/** Every account's balance and entry count, and how many entries and postings exist: equal before and after
 * an operation exactly when it changed nothing in the ledger. */
export async function ledgerSnapshot(p: Payments) {
  const [accounts, entries, postings] = await Promise.all([
    p.db.account.findMany({ orderBy: { id: "asc" }, select: { id: true, balanceCents: true, entryCount: true } }),
    p.db.entry.count(),
    p.db.posting.count(),
  ]);
  return JSON.stringify({ accounts, entries, postings }, (_k, v) => (typeof v === "bigint" ? v.toString() : v));
}

export async function violations(p: Payments) {
  return p.db.$queryRaw<{ rule: string; subject: string }[]>`SELECT rule, subject FROM ledger_violations()`;
}
