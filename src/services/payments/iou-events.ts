// IOU changes and their outbound events (iou.created, iou.paid, iou.cancelled), written in one transaction: the
// event exists exactly when the change does, and its source key (the IOU's id) keeps a replay from emitting twice.

import type { TxClient } from "../ledger/book-postings";
import { inTransaction } from "../ledger/transaction";
import { recordOutboundEvent } from "../webhooks-out/record-event";
import type { Payments } from "./context";

export interface IouRow {
  id: number;
  system_number: number;
  organisation_id: number;
  club_number: string;
  amount_cents: string;
  description: string;
  club_session_id: number | null;
  created_at: Date;
}

/** The `data` of an IOU event, as receivers see it. */
export function iouEventData(iou: IouRow) {
  return {
    object: "iou",
    id: iou.id,
    member: iou.system_number,
    organisation: { id: iou.organisation_id, club_number: iou.club_number },
    amount: BigInt(iou.amount_cents),
    currency: "aud",
    description: iou.description,
    session_id: iou.club_session_id,
    created: Math.floor(iou.created_at.getTime() / 1000),
  };
}

export async function recordIouEvent(
  client: TxClient,
  type: "iou.created" | "iou.paid" | "iou.cancelled",
  iou: IouRow,
) {
  await recordOutboundEvent(client, {
    organisationId: iou.organisation_id,
    type,
    data: iouEventData(iou),
    sourceKey: `${type}:${iou.id}`,
  });
}

const REMOVE_SQL = `
  WITH d AS (DELETE FROM ious WHERE id = $1 AND ($2::int IS NULL OR organisation_id = $2) RETURNING *)
  SELECT d.id, d.system_number, d.organisation_id, o.club_number, d.amount_cents::text, d.description,
         d.club_session_id, d.created_at
    FROM d JOIN organisations o ON o.id = d.organisation_id`;

/**
 * Removes an IOU (paid, or cancelled by its organisation) and records the event in the same transaction.
 * Returns the removed IOU, or null when there was none (already paid or cancelled, or another organisation's).
 */
export async function removeIou(
  p: Payments,
  iouId: number,
  event: "iou.paid" | "iou.cancelled",
  organisationId: number | null = null,
  paidByPostingKey: string | null = null,
): Promise<IouRow | null> {
  if (!Number.isSafeInteger(iouId)) return null;
  return inTransaction(p.pool, (client) => removeIouIn(client, iouId, event, organisationId, paidByPostingKey));
}

/** removeIou inside the caller's transaction; `paidByPostingKey`: the idempotency key of the paying posting. */
export async function removeIouIn(
  client: TxClient,
  iouId: number,
  event: "iou.paid" | "iou.cancelled",
  organisationId: number | null = null,
  paidByPostingKey: string | null = null,
): Promise<IouRow | null> {
  const { rows } = (await client.query(REMOVE_SQL, [iouId, organisationId])) as { rows: IouRow[] };
  const iou = rows[0];
  if (iou) await recordIouEvent(client, event, iou);
  if (iou && event === "iou.paid" && paidByPostingKey) await settleIouCharge(client, iou.id, paidByPostingKey);
  return iou ?? null;
}

/**
 * A charge that became this IOU (an API or session-page charge with when_insufficient "iou") succeeds once the
 * IOU is paid: it takes the payment's posting and the member's balance after it, so GET /charges shows it paid
 * and the organisation can refund it like any other charge. It keeps its `iou` to say how it was paid. (It stayed
 * "iou" for good, and the API refused to refund money the club had received.)
 */
async function settleIouCharge(client: TxClient, iouId: number, postingKey: string) {
  await client.query(
    `UPDATE api_charges c
        SET status = 'succeeded', failure_code = NULL, updated_at = now(), posting_id = p.id,
            balance_after_cents = (SELECT e.balance_after_cents FROM entries e JOIN accounts a ON a.id = e.account_id
                                    WHERE e.posting_id = p.id AND a.user_id = c.user_id)
       FROM postings p
      WHERE c.iou_id = $1 AND c.status = 'iou' AND p.idempotency_key = $2`,
    [iouId, postingKey],
  );
}
