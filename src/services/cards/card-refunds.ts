// Refunds of card payments to the card: the member's own (§3.8: window, fee, balance rules) and finance staff's
// (§3.9: any remaining amount, not their own payments, balance may go negative). The credits are taken and the
// refund recorded in one transaction *before* Stripe is asked, so the member cannot spend them meanwhile; if
// Stripe refuses — now, or later through the webhook — the credits are given back. Ledger, card record and
// refund record therefore agree whatever Stripe does.
import type pg from "pg";
import { AppError, badInput } from "../../lib/errors";
import { formatMoney, percentOf } from "../../lib/money";
import { type AuditContext, auditRows, recordAudit } from "../audit/record";
import type { EntryInput } from "../ledger/posting";
import { bookInTransaction, inTransaction } from "../ledger/transaction";
import { messages } from "../notifications/messages";
import { writeNotifications } from "../notifications/outbox";
import { CardGatewayError } from "../payments/card-gateway";
import type { Payments } from "../payments/context";
import { activePaymentSettings } from "../payments/settings";
import { holderOf, mismatchOf, notOurs } from "./stripe-match";

interface CardRow {
  id: number;
  user_id: number | null;
  status: string;
  amount_cents: string;
  refunded_cents: string;
  receipt_url: string | null;
  stripe_charge_id: string | null;
  created_at: Date;
}

export interface RefundQuote {
  cardPaymentId: number;
  userId: number;
  creditsCents: bigint;
  feeCents: bigint;
  cardAmountCents: bigint;
  balanceCents: bigint;
  balanceAfterCents: bigint;
  feePpm: number;
}

const REFUNDABLE = new Set(["SUCCEEDED", "PARTIAL_REFUND"]);
const WEEK_MS = 7 * 24 * 60 * 60 * 1000;

async function cardRow(db: Pick<pg.PoolClient, "query"> | pg.Pool, id: number, lock: boolean) {
  if (!Number.isSafeInteger(id) || id < 1) return null;
  const { rows } = await db.query<CardRow>(
    `SELECT id, user_id, status, amount_cents::text, refunded_cents::text, receipt_url, stripe_charge_id, created_at
       FROM card_payments WHERE id = $1 ${lock ? "FOR UPDATE" : ""}`,
    [id],
  );
  return rows[0] ?? null;
}

async function balanceOf(db: Pick<pg.PoolClient, "query"> | pg.Pool, userId: number) {
  const { rows } = await db.query<{ b: string }>("SELECT balance_cents::text AS b FROM accounts WHERE user_id = $1", [
    userId,
  ]);
  return BigInt(rows[0]?.b ?? "0");
}

function remaining(c: CardRow) {
  return BigInt(c.amount_cents) - BigInt(c.refunded_cents);
}

/** Checks shared by both kinds: a real, succeeded card charge with something left to refund. */
function refundable(c: CardRow | null): asserts c is CardRow & { user_id: number } {
  if (!c?.user_id || !c.receipt_url || !c.stripe_charge_id) throw badInput("Invalid transaction for a refund");
  if (c.status === "REFUNDED" || remaining(c) <= 0n) throw badInput("Transaction already refunded");
  if (!REFUNDABLE.has(c.status)) throw badInput("Invalid transaction for a refund");
}

/** What a member's self-refund would do, after every §3.8 rule; throws the original's message when refused. */
export async function memberRefundQuote(p: Payments, userId: number, cardPaymentId: number): Promise<RefundQuote> {
  return memberQuote(p, p.pool, userId, cardPaymentId, false);
}

async function memberQuote(
  p: Payments,
  db: Pick<pg.PoolClient, "query"> | pg.Pool,
  userId: number,
  cardPaymentId: number,
  lock: boolean,
): Promise<RefundQuote> {
  const c = await cardRow(db, cardPaymentId, lock);
  if (c && c.user_id !== userId) throw badInput("Action Prohibited - transaction is not yours");
  refundable(c);
  const settings = await activePaymentSettings(p.db);
  const credits = remaining(c);
  const fee = percentOf(credits, settings.refundFeePpm);
  const balance = await balanceOf(db, userId);
  if (balance - credits < 0n) throw badInput("Cannot refund. Balance will be negative");
  if (c.created_at.getTime() <= Date.now() - settings.refundWindowWeeks * WEEK_MS) {
    throw badInput("Cannot refund. Transaction is too old.");
  }
  return {
    cardPaymentId,
    userId,
    creditsCents: credits,
    feeCents: fee,
    cardAmountCents: credits - fee,
    balanceCents: balance,
    balanceAfterCents: balance - credits,
    feePpm: settings.refundFeePpm,
  };
}

/** What finance staff's refund of `amountCents` would do (§3.9); throws the original's message when refused. */
export async function adminRefundQuote(
  p: Payments,
  adminUserId: number,
  cardPaymentId: number,
  amountCents: bigint,
): Promise<RefundQuote> {
  return adminQuote(p.pool, adminUserId, cardPaymentId, amountCents, false);
}

async function adminQuote(
  db: Pick<pg.PoolClient, "query"> | pg.Pool,
  adminUserId: number,
  cardPaymentId: number,
  amountCents: bigint,
  lock: boolean,
): Promise<RefundQuote> {
  const c = await cardRow(db, cardPaymentId, lock);
  if (c?.user_id === adminUserId) {
    throw badInput("You cannot refund your own transactions. Do it through Stripe if you really need to.");
  }
  refundable(c);
  if (amountCents === 0n) throw badInput("Please enter a value");
  if (amountCents < 0n) throw badInput("Amount cannot be negative");
  if (amountCents > remaining(c)) throw badInput("Too large. Refund is more than was paid.");
  const balance = await balanceOf(db, c.user_id);
  return {
    cardPaymentId,
    userId: c.user_id,
    creditsCents: amountCents,
    feeCents: 0n,
    cardAmountCents: amountCents,
    balanceCents: balance,
    balanceAfterCents: balance - amountCents,
    feePpm: 0,
  };
}

export type RefundResult = { refundId: number; status: "SUCCEEDED" | "PENDING"; quote: RefundQuote; message: string };

/** §3.8: the member refunds the whole unrefunded rest of their own card payment, less the refund fee. */
export async function memberRefund(p: Payments, userId: number, cardPaymentId: number): Promise<RefundResult> {
  const pre = await memberRefundQuote(p, userId, cardPaymentId);
  // The original's last check: the federation must hold enough at Stripe right now. Only the card amount leaves
  // Stripe (the fee stays), so that is what is compared; the original compared the whole credits amount.
  const available = await p.gateway.availableBalanceCents();
  if (available < pre.cardAmountCents) {
    throw badInput("Cannot refund. We have insufficient funds available with Stripe. Please try again later.");
  }
  return refund(p, {
    kind: "MEMBER",
    requestedBy: userId,
    description: "Card refund",
    quote: (client) => memberQuote(p, client, userId, cardPaymentId, true),
  });
}

/**
 * §3.9: finance staff refund any part of the rest of a member's card payment, with no fee. `audit`: the staff
 * member's request, so the refund's audit row is written in the transaction that takes the credits.
 */
export async function adminRefund(
  p: Payments,
  req: { adminUserId: number; cardPaymentId: number; amountCents: bigint; description: string; requestKey?: string },
  audit?: AuditContext,
): Promise<RefundResult> {
  const description = req.description.trim() || "Card Refund";
  if (description.length > 80) throw badInput("The description must be at most 80 characters.");
  if (req.requestKey) {
    const done = await p.db.cardRefund.findUnique({ where: { requestKey: req.requestKey } });
    if (done) {
      const quote = await adminQuote(p.pool, req.adminUserId, done.cardPaymentId, done.creditsCents, false).catch(
        () => null,
      );
      return {
        refundId: done.id,
        status: done.status === "SUCCEEDED" ? "SUCCEEDED" : "PENDING",
        quote: quote ?? {
          cardPaymentId: done.cardPaymentId,
          userId: done.userId,
          creditsCents: done.creditsCents,
          feeCents: done.feeCents,
          cardAmountCents: done.cardAmountCents,
          balanceCents: 0n,
          balanceAfterCents: 0n,
          feePpm: 0,
        },
        message: "This refund was already made.",
      };
    }
  }
  return refund(p, {
    requestKey: req.requestKey,
    kind: "ADMIN",
    requestedBy: req.adminUserId,
    description,
    quote: (client) => adminQuote(client, req.adminUserId, req.cardPaymentId, req.amountCents, true),
    audit,
  });
}

async function refund(
  p: Payments,
  r: {
    kind: "MEMBER" | "ADMIN";
    requestKey?: string;
    requestedBy: number;
    description: string;
    quote: (client: pg.PoolClient) => Promise<RefundQuote>;
    audit?: AuditContext;
  },
): Promise<RefundResult> {
  const { refundId, quote, chargeId } = await inTransaction(p.pool, async (client) => {
    const q = await r.quote(client); // re-checked under the card record's lock
    const { rows } = await client.query<{ id: number; stripe_charge_id: string }>(
      `INSERT INTO card_refunds (card_payment_id, user_id, requested_by_user_id, kind, credits_cents, fee_cents,
                                 card_amount_cents, description, request_key)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
       RETURNING id, (SELECT stripe_charge_id FROM card_payments WHERE id = $1)`,
      [
        q.cardPaymentId,
        q.userId,
        r.requestedBy,
        r.kind,
        q.creditsCents.toString(),
        q.feeCents.toString(),
        q.cardAmountCents.toString(),
        r.description,
        r.requestKey ?? null,
      ],
    );
    const id = rows[0]!.id;
    await adjustRefunded(client, q.cardPaymentId, q.creditsCents);
    const booked = await bookInTransaction(client, {
      idempotencyKey: `refund:${id}`,
      type: "Card Refund",
      description: r.description,
      actorUserId: r.requestedBy,
      allowOverdraft: r.kind === "ADMIN",
      entries: refundEntries(q.userId, q.creditsCents, q.cardAmountCents, q.feeCents, -1n),
    });
    if (booked.status === "INSUFFICIENT_FUNDS") throw badInput("Cannot refund. Balance will be negative");
    if (booked.status !== "POSTED") throw new Error(`refund ${id}: posting ${booked.status}`);
    await recordAudit(
      client,
      ...auditRows(r.audit, {
        action: "refund.admin",
        targetType: "card_payment",
        targetId: q.cardPaymentId,
        after: {
          refundId: id,
          memberUserId: q.userId,
          creditsCents: q.creditsCents,
          cardAmountCents: q.cardAmountCents,
          description: r.description,
          balanceAfterCents: q.balanceAfterCents,
          postingId: booked.postingId,
        },
      }),
    );
    return { refundId: id, quote: q, chargeId: rows[0]!.stripe_charge_id };
  });

  try {
    const re = await p.gateway.refund({
      chargeId,
      amountCents: quote.cardAmountCents,
      metadata: { bc_refund_id: String(refundId), bc_card_payment_id: String(quote.cardPaymentId) },
      idempotencyKey: `refund:${refundId}`,
    });
    if (re.status === "failed" || re.status === "canceled") {
      throw new CardGatewayError("invalid", "The card issuer refused the refund.");
    }
    const status = re.status === "succeeded" ? "SUCCEEDED" : "PENDING";
    await inTransaction(p.pool, (client) => refundAccepted(client, refundId, re.id, status));
    p.events.emit("cardRefunded", {
      userId: quote.userId,
      refundId,
      cardAmountCents: quote.cardAmountCents,
      byAdminUserId: r.kind === "ADMIN" ? r.requestedBy : null,
      description: r.description,
    });
    return {
      refundId,
      status,
      quote,
      message:
        r.kind === "MEMBER"
          ? "Refund Request Submitted"
          : `Refund Successful. Paid ${formatMoney(quote.cardAmountCents)} to the member's card`,
    };
  } catch (e) {
    if (!(e instanceof CardGatewayError)) throw e;
    if (e.kind === "unknown" || e.kind === "retryable") {
      // Stripe may have made the refund; its webhook (or finance) settles it. The credits stay reserved.
      await p.db.cardRefund.update({ where: { id: refundId }, data: { failureMessage: e.message } });
      p.logger.warn({ refundId, message: e.message }, "card refund outcome unknown: waiting for Stripe");
      return {
        refundId,
        status: "PENDING",
        quote,
        message: "Refund submitted; waiting for the card processor to confirm it.",
      };
    }
    await inTransaction(p.pool, (client) => reverseRefund(client, refundId, e.message));
    throw new AppError("BAD_INPUT", `The card refund failed: ${e.message} Your balance has been restored.`);
  }
}

/**
 * A refund's entries (sign -1) or their reversal (sign 1): the member's credits, against the card money going
 * back to the card and the withheld fee becoming federation income.
 */
function refundEntries(userId: number, credits: bigint, card: bigint, fee: bigint, sign: 1n | -1n): EntryInput[] {
  const entries: EntryInput[] = [{ userId, amountCents: sign * credits, counterparty: 1 }];
  if (card > 0n) entries.push({ system: "CARD_FUNDS", amountCents: -sign * card, counterparty: 0 });
  if (fee > 0n) entries.push({ system: "FEE_INCOME", amountCents: -sign * fee, counterparty: 0 });
  return entries;
}

async function adjustRefunded(client: Pick<pg.PoolClient, "query">, cardPaymentId: number, deltaCents: bigint) {
  await client.query(
    `UPDATE card_payments
        SET refunded_cents = refunded_cents + $2::bigint,
            status = CASE WHEN refunded_cents + $2::bigint >= amount_cents THEN 'REFUNDED'
                          WHEN refunded_cents + $2::bigint > 0 THEN 'PARTIAL_REFUND'
                          ELSE 'SUCCEEDED' END::"CardPaymentStatus",
            updated_at = now()
      WHERE id = $1`,
    [cardPaymentId, deltaCents.toString()],
  );
}

/** Gives the credits of a failed refund back (once) and marks it FAILED. */
async function reverseRefund(client: pg.PoolClient, refundId: number, reason: string) {
  const { rows } = await client.query<{
    status: string;
    card_payment_id: number;
    user_id: number;
    credits_cents: string;
    fee_cents: string;
    card_amount_cents: string;
  }>(
    `SELECT status, card_payment_id, user_id, credits_cents::text, fee_cents::text, card_amount_cents::text
       FROM card_refunds WHERE id = $1 FOR UPDATE`,
    [refundId],
  );
  const r = rows[0];
  if (!r || r.status === "FAILED") return false;
  // Lock order as everywhere: card record first.
  await client.query("SELECT 1 FROM card_payments WHERE id = $1 FOR UPDATE", [r.card_payment_id]);
  const credits = BigInt(r.credits_cents);
  const fee = BigInt(r.fee_cents);
  await adjustRefunded(client, r.card_payment_id, -credits);
  await client.query(
    "UPDATE card_refunds SET status = 'FAILED', failure_message = $2, updated_at = now() WHERE id = $1",
    [refundId, reason],
  );
  const booked = await bookInTransaction(client, {
    idempotencyKey: `refund:${refundId}:reversed`,
    type: "Card Refund",
    description: "Card refund failed: credits returned",
    entries: refundEntries(r.user_id, credits, BigInt(r.card_amount_cents), fee, 1n),
  });
  if (booked.status !== "POSTED" && booked.status !== "DUPLICATE") {
    throw new Error(`refund ${refundId}: reversal ${booked.status}`);
  }
  return true;
}

/**
 * A refund event from Stripe (created / updated / failed), inside the webhook's transaction. It changes our refund
 * only when the Stripe refund is the one we asked for: its id (when we hold it yet), charge, PaymentIntent, amount
 * and currency match ours. A refund whose id we have not stored yet (its event overtook Stripe's answer, or the
 * answer was lost) is accepted when its charge is our card payment's and the amounts agree; the id is then stored.
 */
export async function applyRefundUpdate(_p: Payments, client: pg.PoolClient, o: Record<string, unknown>) {
  const meta = (o.metadata ?? {}) as Record<string, unknown>;
  const named =
    typeof meta.bc_refund_id === "string" && /^\d{1,9}$/.test(meta.bc_refund_id) ? Number(meta.bc_refund_id) : null;
  const holder = await holderOf(client, "card_refunds", "stripe_refund_id", o.id);
  const id = named ?? holder;
  if (id === null) return { outcome: "ignored: not one of our refunds" };
  const { rows } = await client.query<{
    stripe_refund_id: string | null;
    card_payment_id: number;
    card_amount_cents: string;
    stripe_charge_id: string | null;
    stripe_payment_intent_id: string | null;
    currency: string;
  }>(
    `SELECT r.stripe_refund_id, r.card_payment_id, r.card_amount_cents::text, c.stripe_charge_id,
            c.stripe_payment_intent_id, c.currency
       FROM card_refunds r JOIN card_payments c ON c.id = r.card_payment_id WHERE r.id = $1 FOR UPDATE OF r`,
    [id],
  );
  const ours = rows[0];
  if (!ours) return { outcome: `ignored: refund ${id} not found` };
  const m = mismatchOf([
    { name: "id's refund", theirs: holder, ours: id },
    { name: "metadata.bc_card_payment_id", theirs: meta.bc_card_payment_id, ours: ours.card_payment_id },
    { name: "id", theirs: o.id, ours: ours.stripe_refund_id, required: true, link: true },
    { name: "charge", theirs: o.charge, ours: ours.stripe_charge_id, link: true },
    { name: "payment_intent", theirs: o.payment_intent, ours: ours.stripe_payment_intent_id, link: true },
    { name: "amount", theirs: o.amount, ours: ours.card_amount_cents, required: true },
    { name: "currency", theirs: o.currency, ours: ours.currency, required: true },
  ]);
  if (m) return notOurs(`refund ${id}`, m);
  const status = String(o.status ?? "");
  const stripeId = o.id as string;
  if (status === "failed" || status === "canceled") {
    await client.query("UPDATE card_refunds SET stripe_refund_id = coalesce(stripe_refund_id, $2) WHERE id = $1", [
      id,
      stripeId,
    ]);
    const reversed = await reverseRefund(client, id, `Stripe reported the refund ${status}`);
    return { outcome: reversed ? `refund ${id} failed: credits returned` : `refund ${id} already failed` };
  }
  const found = await refundAccepted(client, id, stripeId, status === "succeeded" ? "SUCCEEDED" : "PENDING");
  return { outcome: found ? `refund ${id}: ${status}` : `ignored: refund ${id} not found` };
}

/**
 * Stripe accepted the refund (at once, or as its webhook later says): record it and tell the member, once. A
 * refund already marked FAILED stays failed.
 */
async function refundAccepted(
  client: Pick<pg.PoolClient, "query">,
  refundId: number,
  stripeRefundId: string | null,
  status: "SUCCEEDED" | "PENDING",
) {
  const { rows } = await client.query<{
    user_id: number;
    kind: string;
    status: string;
    credits_cents: string;
    card_amount_cents: string;
    description: string;
    admin: string;
  }>(
    `UPDATE card_refunds r SET stripe_refund_id = coalesce(r.stripe_refund_id, $2),
            status = CASE WHEN r.status = 'PENDING' THEN $3::"CardRefundStatus" ELSE r.status END, updated_at = now()
       FROM users a
      WHERE r.id = $1 AND a.id = r.requested_by_user_id
      RETURNING r.user_id, r.kind, r.status, r.credits_cents::text, r.card_amount_cents::text, r.description,
                a.first_name || ' ' || a.last_name AS admin`,
    [refundId, stripeRefundId, status],
  );
  const r = rows[0];
  if (!r) return false;
  if (r.status !== "FAILED") {
    const card = BigInt(r.card_amount_cents);
    await writeNotifications(client, [
      r.kind === "ADMIN"
        ? messages.adminRefund(r.user_id, r.admin, card, r.description, refundId)
        : messages.memberRefund(r.user_id, card, BigInt(r.credits_cents), refundId),
    ]);
  }
  return true;
}
