// Books a Stripe dispute on one of our card payments from what Stripe says about it now (docs/stripe.md,
// "Disputes"), inside the caller's transaction and under the dispute row's lock; each step once, with its own
// idempotency key, whatever the order or number of events.
//
// Withdrawal (the dispute's negative balance transaction): the disputed amount X and Stripe's dispute fee F leave
// card funds for the DISPUTES account; the member gives back what their balance holds, up to X; the rest becomes
// an IOU to the federation's organisation; auto top-up is switched off; member and finance are told.
// Reinstatement (the positive one, once): what Stripe returns goes back from DISPUTES to card funds; the member
// gets back every credit the dispute cost them — the credits taken plus the IOU if they had paid it — and an
// unpaid IOU is cancelled. The fee the member never paid is the federation's; auto top-up stays off.
import type pg from "pg";
import { formatMoney } from "../../lib/money";
import { bookSystemStep as book } from "../ledger/transaction";
import { messages } from "../notifications/messages";
import { type NotificationInput, writeNotifications } from "../notifications/outbox";
import type { StripeDisputeInfo } from "../payments/card-gateway";
import type { Payments } from "../payments/context";
import { federationOrganisationId } from "../payments/federation";
import { removeIouIn } from "../payments/iou-events";
import { createIouIn } from "../payments/ious";

export interface DisputedCard {
  id: number;
  user_id: number;
  amount_cents: string;
  currency: string;
  status: string;
}

/** Card payment states whose credit is in the ledger. */
const BOOKED = new Set(["SUCCEEDED", "PARTIAL_REFUND", "REFUNDED"]);
const CLOSED = new Set(["won", "lost", "warning_closed", "prevented"]);

interface Row {
  card_payment_id: number;
  amount_cents: string;
  withdrawn_at: Date | null;
  reinstated_at: Date | null;
  taken_cents: string | null;
  iou_id: number | null;
  iou_cents: string | null;
}

/** Finance staff (a global payments grant), each told once per step. */
async function financeMessages(
  client: pg.PoolClient,
  disputeId: string,
  step: "withdrawn" | "reinstated",
  body: string,
) {
  const { rows } = await client.query<{ user_id: number }>(
    "SELECT DISTINCT user_id FROM role_grants WHERE organisation_id IS NULL",
  );
  return rows.map((r) => messages.disputeForFinance(r.user_id, disputeId, step, body));
}

export async function bookDispute(
  p: Payments,
  client: pg.PoolClient,
  card: DisputedCard,
  d: StripeDisputeInfo,
): Promise<{ outcome: string; changed: boolean }> {
  const due = d.evidenceDueBy ? new Date(d.evidenceDueBy * 1000) : null;
  await client.query(
    `INSERT INTO card_disputes (id, card_payment_id, user_id, stripe_charge_id, amount_cents, currency, reason, status,
                                evidence_due_by)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (id) DO NOTHING`,
    [d.id, card.id, card.user_id, d.chargeId, d.amountCents.toString(), d.currency, d.reason, d.status, due],
  );
  const { rows } = await client.query<Row>(
    `SELECT card_payment_id, amount_cents::text, withdrawn_at, reinstated_at, taken_cents::text, iou_id,
            iou_cents::text
       FROM card_disputes WHERE id = $1 FOR UPDATE`,
    [d.id],
  );
  const row = rows[0]!;
  if (row.card_payment_id !== card.id || BigInt(row.amount_cents) !== d.amountCents) {
    const outcome = `rejected: dispute ${d.id} was recorded for card payment ${row.card_payment_id}, ${row.amount_cents} cents`;
    return { outcome, changed: false };
  }
  await client.query(
    `UPDATE card_disputes SET status = $2, reason = $3, evidence_due_by = $4, updated_at = now(),
            closed_at = CASE WHEN $5 THEN coalesce(closed_at, now()) END
      WHERE id = $1`,
    [d.id, d.status, d.reason, due, CLOSED.has(d.status)],
  );
  const done: string[] = [];
  const withdrawal = d.balanceTransactions.find((t) => t.amountCents < 0n);
  const reinstatement = d.balanceTransactions.find((t) => t.amountCents > 0n);
  let withdrawn = row.withdrawn_at !== null;

  if (withdrawal && !withdrawn) {
    // The member's credit must be in the ledger before it can be taken back; until then Stripe retries.
    if (!BOOKED.has(card.status)) throw new Error(`card payment ${card.id} is not booked yet (${card.status})`);
    if (withdrawal.amountCents !== -d.amountCents || withdrawal.currency !== d.currency) {
      const outcome = `rejected: dispute ${d.id}'s withdrawal is ${withdrawal.amountCents} ${withdrawal.currency}, the dispute ${d.amountCents} ${d.currency}`;
      return { outcome, changed: false };
    }
    done.push(await withdraw(p, client, card, d, -withdrawal.netCents, withdrawal.feeCents));
    withdrawn = true;
  }
  if (reinstatement && withdrawn && row.reinstated_at === null) {
    done.push(await reinstate(client, card, d, reinstatement.netCents));
  }
  return {
    outcome: `dispute ${d.id} (${d.status}): ${done.length ? done.join("; ") : "nothing to book"}`,
    changed: done.length > 0,
  };
}

async function withdraw(
  p: Payments,
  client: pg.PoolClient,
  card: DisputedCard,
  d: StripeDisputeInfo,
  outCents: bigint,
  feeCents: bigint,
) {
  const x = d.amountCents;
  const posting = await book(
    client,
    `dispute:${d.id}:withdrawn`,
    "Card Dispute",
    `Dispute ${d.id} on card payment ${card.id} (${d.reason}): Stripe withdrew ${formatMoney(x)} and a fee of ${formatMoney(feeCents)}`,
    [
      { system: "DISPUTES", amountCents: -outCents, counterparty: 1 },
      { system: "CARD_FUNDS", amountCents: outCents, counterparty: 0 },
    ],
  );
  // Under the account's lock: what the balance holds now, never more than the disputed amount.
  const { rows } = await client.query<{ balance: string; system_number: number; email: string; status: string }>(
    `SELECT a.balance_cents::text AS balance, u.system_number, u.email, u.auto_top_up_status::text AS status
       FROM accounts a JOIN users u ON u.id = a.user_id WHERE a.user_id = $1 FOR UPDATE OF a, u`,
    [card.user_id],
  );
  const member = rows[0]!;
  const balance = BigInt(member.balance);
  const taken = balance <= 0n ? 0n : balance < x ? balance : x;
  if (taken > 0n) {
    await book(
      client,
      `dispute:${d.id}:taken`,
      "Card Dispute",
      `Card payment ${card.id} disputed with your bank: ${formatMoney(taken)} taken back`,
      [
        { userId: card.user_id, amountCents: -taken, counterparty: 1 },
        { system: "DISPUTES", amountCents: taken, counterparty: 0 },
      ],
    );
  }
  const rest = x - taken;
  let iouId: number | null = null;
  if (rest > 0n) {
    const orgId = await federationOrganisationId(p);
    const org = await client.query<{ name: string; club_number: string }>(
      "SELECT name, club_number FROM organisations WHERE id = $1",
      [orgId],
    );
    const iou = await createIouIn(
      client,
      {
        systemNumber: member.system_number,
        organisationId: orgId,
        amountCents: rest,
        description: `Disputed card payment ${card.id}: the part not covered by your balance`,
      },
      { name: org.rows[0]!.name, clubNumber: org.rows[0]!.club_number },
      { id: card.user_id, email: member.email },
    );
    iouId = iou.id;
  }
  // The disputed card must not be charged again by an auto top-up.
  await client.query("UPDATE users SET auto_top_up_status = 'OFF', updated_at = now() WHERE id = $1", [card.user_id]);
  await client.query(
    `UPDATE card_disputes SET fee_cents = $2, taken_cents = $3, iou_id = $4, iou_cents = $5, auto_top_up_was = $6,
            withdrawn_at = now(), withdrawn_posting_id = $7
      WHERE id = $1`,
    [d.id, feeCents.toString(), taken.toString(), iouId, rest.toString(), member.status, posting],
  );
  const summary =
    `Stripe withdrew ${formatMoney(x)} and a dispute fee of ${formatMoney(feeCents)} for dispute ${d.id} ` +
    `(${d.reason}) on card payment ${card.id}. Taken back from the member: ${formatMoney(taken)}; ` +
    `IOU for the rest: ${formatMoney(rest)}. Auto top-up is off.`;
  const notes: NotificationInput[] = [
    messages.disputeWithdrawn(
      { userId: card.user_id, cardPaymentId: card.id, amountCents: x, takenCents: taken, iouCents: rest },
      d.id,
    ),
    ...(await financeMessages(client, d.id, "withdrawn", summary)),
  ];
  await writeNotifications(client, notes);
  return `withdrawn ${formatMoney(x)} + fee ${formatMoney(feeCents)}; taken ${formatMoney(taken)}; IOU ${formatMoney(rest)}`;
}

async function reinstate(client: pg.PoolClient, card: DisputedCard, d: StripeDisputeInfo, backCents: bigint) {
  const { rows } = await client.query<Row>(
    "SELECT taken_cents::text, iou_id, iou_cents::text FROM card_disputes WHERE id = $1",
    [d.id],
  );
  const row = rows[0]!;
  const posting = await book(
    client,
    `dispute:${d.id}:reinstated`,
    "Card Dispute Reversal",
    `Dispute ${d.id} on card payment ${card.id} (${d.status}): Stripe returned ${formatMoney(backCents)}`,
    [
      { system: "CARD_FUNDS", amountCents: -backCents, counterparty: 1 },
      { system: "DISPUTES", amountCents: backCents, counterparty: 0 },
    ],
  );
  // The IOU: cancelled if still open; if the member paid it, what they paid comes back as credits.
  const iouCents = BigInt(row.iou_cents ?? "0");
  let iouCancelled = 0n;
  let iouPaid = 0n;
  if (row.iou_id !== null) {
    const removed = await removeIouIn(client, row.iou_id, "iou.cancelled");
    if (removed) iouCancelled = iouCents;
    else {
      const paid = await client.query("SELECT 1 FROM outbound_events WHERE source_key = $1", [
        `iou.paid:${row.iou_id}`,
      ]);
      if (paid.rows.length > 0) iouPaid = iouCents;
    }
  }
  const given = BigInt(row.taken_cents ?? "0") + iouPaid;
  if (given > 0n) {
    await book(
      client,
      `dispute:${d.id}:given-back`,
      "Card Dispute Reversal",
      `Dispute of card payment ${card.id} decided: ${formatMoney(given)} given back`,
      [
        { userId: card.user_id, amountCents: given, counterparty: 1 },
        { system: "DISPUTES", amountCents: -given, counterparty: 0 },
      ],
    );
  }
  await client.query(
    `UPDATE card_disputes SET given_back_cents = $2, reinstated_cents = $3, reinstated_at = now(),
            reinstated_posting_id = $4
      WHERE id = $1`,
    [d.id, given.toString(), backCents.toString(), posting],
  );
  const summary =
    `Stripe returned ${formatMoney(backCents)} for dispute ${d.id} on card payment ${card.id}. Given back to the ` +
    `member: ${formatMoney(given)}; IOU cancelled: ${formatMoney(iouCancelled)}.`;
  await writeNotifications(client, [
    messages.disputeReinstated(
      { userId: card.user_id, cardPaymentId: card.id, givenBackCents: given, iouCancelled },
      d.id,
    ),
    ...(await financeMessages(client, d.id, "reinstated", summary)),
  ]);
  return `reinstated ${formatMoney(backCents)}; given back ${formatMoney(given)}; IOU cancelled ${formatMoney(iouCancelled)}`;
}
