// Books a card payment that Stripe says succeeded, exactly once, inside the caller's transaction: the card
// record is locked, checked against what Stripe charged, marked SUCCEEDED, and the credit booked — then the
// linked purchase, if the card paid for one (reference §3.5 manual handler). Whoever gets here first (the
// auto top-up that made the charge, or the webhook) books it; the other finds it done.
import type pg from "pg";
import type { TxClient } from "../ledger/book-postings";
import { bookInTransaction } from "../ledger/transaction";
import type { TransactionType } from "../ledger/transaction-types";
import { messages } from "../notifications/messages";
import { writeNotifications } from "../notifications/outbox";
import type { CallbackRegistry, PurchaseRefusal } from "../payments/callbacks";
import { type CardCharge, cardLabel } from "../payments/card-gateway";

/** What the after-commit work (callbacks, notifications) needs to know about the settled card payment. */
export interface SettledCard {
  id: number;
  userId: number;
  amountCents: bigint;
  routeCode: string | null;
  routePayload: string | null;
}

export type SettleOutcome =
  | { status: "booked"; card: SettledCard; purchase: Purchase }
  | { status: "already_booked"; card: SettledCard }
  | { status: "mismatch"; reason: string }
  | { status: "not_found" };

/** What became of the purchase a card payment paid for ("none": it paid for nothing, a plain top-up). */
export type Purchase = "booked" | "none" | PurchaseRefusal;

const BOOKED = new Set(["SUCCEEDED", "PARTIAL_REFUND", "REFUNDED"]);

interface Row {
  id: number;
  user_id: number | null;
  kind: "CHECKOUT" | "SAVED_CARD";
  status: string;
  amount_cents: string;
  currency: string;
  description: string;
  linked_type: string | null;
  linked_amount_cents: string | null;
  linked_user_id: number | null;
  linked_organisation_id: number | null;
  club_session_id: number | null;
  event_id: number | null;
  payer_active: boolean;
}

/** The type of the credit: a card paying for something is "CC Payment"; a saved-card top-up says which it was. */
function creditType(row: Row): TransactionType {
  if (row.linked_type) return "CC Payment";
  if (row.kind === "SAVED_CARD" && row.description === "Auto Top Up") return "Auto Top Up";
  return "Manual Top Up";
}

export async function settleCardPayment(
  client: pg.PoolClient,
  cardPaymentId: number,
  charge: CardCharge,
  callbacks: CallbackRegistry,
): Promise<SettleOutcome> {
  const { rows } = await client.query<Row>(
    `SELECT id, user_id, kind, status, amount_cents::text, currency, description, linked_type,
            linked_amount_cents::text, linked_user_id, linked_organisation_id, club_session_id, event_id,
            coalesce((SELECT is_active FROM users WHERE id = user_id), false) AS payer_active
       FROM card_payments WHERE id = $1 FOR UPDATE`,
    [cardPaymentId],
  );
  const row = rows[0];
  if (!row?.user_id) return { status: "not_found" };
  const card = async (): Promise<SettledCard> => {
    const r = await client.query<{ route_code: string | null; route_payload: string | null }>(
      "SELECT route_code, route_payload FROM card_payments WHERE id = $1",
      [cardPaymentId],
    );
    const { route_code, route_payload } = r.rows[0]!;
    const amountCents = BigInt(row.amount_cents);
    return { id: cardPaymentId, userId: row.user_id!, amountCents, routeCode: route_code, routePayload: route_payload };
  };
  if (BOOKED.has(row.status)) return { status: "already_booked", card: await card() };
  if (BigInt(row.amount_cents) !== charge.amountCents || row.currency !== charge.currency) {
    return {
      status: "mismatch",
      reason: `charged ${charge.amountCents} ${charge.currency}, expected ${row.amount_cents} ${row.currency}`,
    };
  }

  await client.query(
    `UPDATE card_payments SET status = 'SUCCEEDED', stripe_payment_intent_id = coalesce($2, stripe_payment_intent_id),
            stripe_charge_id = $3,
            stripe_payment_method_id = $4, receipt_url = $5, balance_transaction_id = $6, card_brand = $7,
            card_country = $8, card_exp_month = $9, card_exp_year = $10, card_last4 = $11, failure_message = NULL,
            updated_at = now()
      WHERE id = $1`,
    [
      cardPaymentId,
      charge.paymentIntentId,
      charge.chargeId,
      charge.paymentMethodId,
      charge.receiptUrl,
      charge.balanceTransactionId,
      charge.brand,
      charge.country,
      charge.expMonth,
      charge.expYear,
      charge.last4,
    ],
  );
  const amount = BigInt(row.amount_cents);
  const credit = await bookInTransaction(client, {
    idempotencyKey: `card:${cardPaymentId}`,
    type: creditType(row),
    description: `Payment from ${cardLabel(charge)}`,
    cardPaymentId,
    entries: [
      { userId: row.user_id, amountCents: amount, counterparty: 1 },
      { system: "CARD_FUNDS", amountCents: -amount, counterparty: 0 },
    ],
    // The original tells the member of every saved-card top-up (auto, or "use my registered card").
    notify: row.kind === "SAVED_CARD" ? [messages.autoTopUpSucceeded(row.user_id, amount, String(cardPaymentId))] : [],
  });
  if (credit.status !== "POSTED" && credit.status !== "DUPLICATE") {
    throw new Error(`card payment ${cardPaymentId}: credit not booked (${credit.status})`);
  }

  // The purchase the card paid for, if any: its posting id, or why it was not made.
  let made: bigint | PurchaseRefusal | null = null;
  if (row.linked_type && row.linked_amount_cents && (row.linked_user_id || row.linked_organisation_id)) {
    const linked = BigInt(row.linked_amount_cents);
    made = row.payer_active ? await bookPurchase(client, row, linked) : "member_inactive";
    if (typeof made !== "bigint") await purchaseRefused(client, cardPaymentId, made);
  }
  const settled = await card();
  if (made !== null) {
    // The caller's own record changes with the money, whatever became of the purchase (API charges).
    await callbacks.runOnSettle(client, settled.routeCode, settled.routePayload ?? "", {
      cardPaymentId,
      purchase: typeof made === "bigint" ? { made: true, postingId: made } : { made: false, reason: made },
    });
  }
  const purchase: Purchase = made === null ? "none" : typeof made === "bigint" ? "booked" : made;
  return { status: "booked", card: settled, purchase };
}

/** Books the purchase the card paid for: its posting id, or why it was not made. */
async function bookPurchase(client: pg.PoolClient, row: Row, linked: bigint): Promise<bigint | PurchaseRefusal> {
  const payee = row.linked_user_id ? { userId: row.linked_user_id } : { organisationId: row.linked_organisation_id! };
  const notify = row.linked_user_id ? await transferMessages(client, row, linked, `card:${row.id}`) : [];
  const r = await bookInTransaction(client, {
    notify,
    idempotencyKey: `card:${row.id}:purchase`,
    type: row.linked_type as TransactionType,
    description: row.description,
    clubSessionId: row.club_session_id,
    eventId: row.event_id,
    entries: [
      { userId: row.user_id!, amountCents: -linked, counterparty: 1 },
      { ...payee, amountCents: linked, counterparty: 0 },
    ],
  });
  if (r.status === "POSTED" || r.status === "DUPLICATE") return r.postingId;
  // The member spent the rest of their balance elsewhere while at the checkout: they keep the card credit and
  // the purchase is not made (the original booked it anyway and left the balance negative).
  return r.status === "INSUFFICIENT_FUNDS" ? "insufficient_funds" : "not_bookable";
}

/** Why the purchase was not made, on the card payment and in the member's message. */
const REFUSALS: Record<PurchaseRefusal, { card: string; member: string }> = {
  insufficient_funds: { card: "the balance no longer covered it", member: "your balance no longer covered it." },
  member_inactive: { card: "the member's account is not active", member: "your account is not active." },
  not_bookable: { card: "it could not be booked", member: "it could not be booked." },
};

/**
 * The purchase a booked card payment paid for was not made: said on the card payment, and to the member (once),
 * in the caller's transaction.
 */
export async function purchaseRefused(client: TxClient, cardPaymentId: number, why: PurchaseRefusal) {
  const { rows } = await client.query<{
    user_id: number;
    amount_cents: string;
    linked_amount_cents: string | null;
    description: string;
    payee: string | null;
  }>(
    `UPDATE card_payments c SET failure_message = $2 WHERE c.id = $1 AND c.user_id IS NOT NULL
     RETURNING c.user_id, c.amount_cents::text, c.linked_amount_cents::text, c.description,
               coalesce((SELECT name FROM organisations WHERE id = c.linked_organisation_id),
                        (SELECT first_name || ' ' || last_name FROM users WHERE id = c.linked_user_id)) AS payee`,
    [
      cardPaymentId,
      `Paid by card, but the purchase was not made (${REFUSALS[why].card}); the credit stays on the balance.`,
    ],
  );
  const card = rows[0];
  if (!card) return;
  const message = messages.purchaseNotMade(
    {
      userId: card.user_id,
      cardAmountCents: BigInt(card.amount_cents),
      purchaseCents: BigInt(card.linked_amount_cents ?? 0),
      payee: card.payee ?? "the payee",
      description: card.description,
    },
    REFUSALS[why].member,
    cardPaymentId,
  );
  await writeNotifications(client, [message]);
}

/** The two transfer e-mails of a member transfer paid by card (§3.6, scenarios 2 and 3). */
async function transferMessages(client: pg.PoolClient, row: Row, amountCents: bigint, key: string) {
  const { rows } = await client.query<{ id: number; firstName: string; lastName: string }>(
    `SELECT id, first_name AS "firstName", last_name AS "lastName" FROM users WHERE id = ANY($1::int[])`,
    [[row.user_id, row.linked_user_id]],
  );
  const from = rows.find((u) => u.id === row.user_id);
  const to = rows.find((u) => u.id === row.linked_user_id);
  return from && to ? messages.transfer({ from, to, amountCents, description: row.description }, key) : [];
}
