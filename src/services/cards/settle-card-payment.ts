// Books a card payment that Stripe says succeeded, exactly once, inside the caller's transaction: the card
// record is locked, checked against what Stripe charged, marked SUCCEEDED, and the credit booked — then the
// linked purchase, if the card paid for one (reference §3.5 manual handler). Whoever gets here first (the
// auto top-up that made the charge, or the webhook) books it; the other finds it done.
import type pg from "pg";
import { bookInTransaction } from "../ledger/transaction";
import type { TransactionType } from "../ledger/transaction-types";
import { messages } from "../notifications/messages";
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
  | { status: "booked"; card: SettledCard; purchase: "booked" | "none" | "insufficient_funds" }
  | { status: "already_booked"; card: SettledCard }
  | { status: "mismatch"; reason: string }
  | { status: "not_found" };

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
): Promise<SettleOutcome> {
  const { rows } = await client.query<Row>(
    `SELECT id, user_id, kind, status, amount_cents::text, currency, description, linked_type,
            linked_amount_cents::text, linked_user_id, linked_organisation_id, club_session_id, event_id
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

  let purchase: "booked" | "none" | "insufficient_funds" = "none";
  if (row.linked_type && row.linked_amount_cents && (row.linked_user_id || row.linked_organisation_id)) {
    const linked = BigInt(row.linked_amount_cents);
    const payee = row.linked_user_id ? { userId: row.linked_user_id } : { organisationId: row.linked_organisation_id! };
    const notify = row.linked_user_id ? await transferMessages(client, row, linked, `card:${cardPaymentId}`) : [];
    const r = await bookInTransaction(client, {
      notify,
      idempotencyKey: `card:${cardPaymentId}:purchase`,
      type: row.linked_type as TransactionType,
      description: row.description,
      clubSessionId: row.club_session_id,
      eventId: row.event_id,
      entries: [
        { userId: row.user_id, amountCents: -linked, counterparty: 1 },
        { ...payee, amountCents: linked, counterparty: 0 },
      ],
    });
    // The member spent the rest of their balance elsewhere while at the checkout: they keep the card credit
    // and the purchase is not made (the original booked it anyway and left the balance negative).
    purchase = r.status === "INSUFFICIENT_FUNDS" ? "insufficient_funds" : "booked";
    if (purchase === "insufficient_funds") {
      await client.query(
        `UPDATE card_payments SET failure_message = 'Paid by card, but the balance no longer covered the purchase; the credit stays on the balance.' WHERE id = $1`,
        [cardPaymentId],
      );
    }
  }
  return { status: "booked", card: await card(), purchase };
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
