// The api_charges table: writing a charge (with its outbound event, in one transaction) and reading charges back
// in the API's shape.
import type { TxClient } from "../ledger/book-postings";
import { inTransaction } from "../ledger/transaction";
import type { ApiServices } from "./api-services";
import { type ChargeCaller, mayReadBalances } from "./api-services";
import type { OutboundEvent, OutboundEventType } from "./outbound-events";
import type { ChargeRequest } from "./schemas";

export type ChargeStatus = "succeeded" | "failed" | "pending" | "iou";

export interface NewCharge {
  chargeKey: string;
  /** Null for a charge made by a session batch (sessionBatchId). */
  apiKeyId: number | null;
  sessionBatchId?: number | null;
  status: ChargeStatus;
  amountCents: bigint;
  userId: number;
  organisationId: number | null;
  payeeUserId: number | null;
  req: ChargeRequest;
  postingId?: bigint | null;
  balanceAfterCents?: bigint | null;
  topUpCents?: bigint | null;
  iouId?: number | null;
  cardPaymentId?: number | null;
  failureCode?: string | null;
}

export interface ChargeRow {
  id: number;
  status: ChargeStatus;
  amount_cents: string;
  refunded_cents: string;
  member: number;
  organisation: string | null;
  organisation_id: number | null;
  payee_member: number | null;
  description: string;
  reference: string | null;
  session_id: number | null;
  event_id: number | null;
  metadata: Record<string, string>;
  reference_no: string | null;
  balance_after_cents: string | null;
  top_up_cents: string | null;
  iou_id: number | null;
  card_payment_id: number | null;
  failure_code: string | null;
  created_at: Date;
  api_key_id: number | null;
  user_id: number;
  posting_id: string | null;
}

/** The charge's columns and joins in the API's shape, over `source` (the table, or a just-inserted row). */
const selectChargesFrom = (source: string) => `
  SELECT c.id, c.status, c.amount_cents::text, c.refunded_cents::text, u.system_number AS member,
         o.club_number AS organisation, c.organisation_id, pu.system_number AS payee_member, c.description,
         c.reference, c.session_id, c.event_id, c.metadata, p.reference_no, c.balance_after_cents::text,
         c.top_up_cents::text, c.iou_id, c.card_payment_id, c.failure_code, c.created_at, c.api_key_id, c.user_id,
         c.posting_id::text
    FROM ${source} c
    JOIN users u ON u.id = c.user_id
    LEFT JOIN organisations o ON o.id = c.organisation_id
    LEFT JOIN users pu ON pu.id = c.payee_user_id
    LEFT JOIN postings p ON p.id = c.posting_id`;

export const SELECT_CHARGES = selectChargesFrom("api_charges");

const num = (v: string | null) => (v === null ? null : Number(v));

/** A charge as the API shows it; the balance only to keys that may read balances (never in events). */
export function chargeView(s: ApiServices, row: ChargeRow, caller: ChargeCaller | null) {
  return {
    id: `ch_${row.id}`,
    object: "charge" as const,
    status: row.status,
    amount: Number(row.amount_cents),
    amount_refunded: Number(row.refunded_cents),
    currency: "aud" as const,
    member: row.member,
    organisation: row.organisation,
    payee_member: row.payee_member,
    description: row.description,
    reference: row.reference,
    session_id: row.session_id,
    event_id: row.event_id,
    metadata: row.metadata,
    posting_reference: row.reference_no,
    ...(mayReadBalances(caller) ? { balance_after: num(row.balance_after_cents) } : {}),
    top_up_amount: num(row.top_up_cents),
    iou: row.iou_id === null ? null : `iou_${row.iou_id}`,
    checkout_url:
      row.status === "pending" && row.card_payment_id !== null
        ? `${s.publicUrl}/payments/checkout/${row.card_payment_id}`
        : null,
    failure_code: row.failure_code,
    created: row.created_at.toISOString(),
  };
}

export type ChargeView = ReturnType<typeof chargeView>;

export async function chargeByKey(client: TxClient, chargeKey: string): Promise<ChargeRow | null> {
  const { rows } = await client.query<ChargeRow>(`${SELECT_CHARGES} WHERE c.charge_key = $1`, [chargeKey]);
  return rows[0] ?? null;
}

export async function chargeById(client: TxClient, id: number): Promise<ChargeRow | null> {
  const { rows } = await client.query<ChargeRow>(`${SELECT_CHARGES} WHERE c.id = $1`, [id]);
  return rows[0] ?? null;
}

/** The outbound event `type` about `row` (without the balance: events go to club endpoints too). */
export const chargeEvent = (s: ApiServices, type: OutboundEventType, row: ChargeRow): OutboundEvent => ({
  organisationId: row.organisation_id,
  type,
  data: { charge: chargeView(s, row, null) },
  sourceKey: `${type}:ch_${row.id}`,
});

/** Records an event for `row` on the caller's transaction (nothing while outbound webhooks are not installed). */
export async function recordChargeEvent(s: ApiServices, client: TxClient, type: OutboundEventType, row: ChargeRow) {
  if (!s.recordEvent) return;
  await s.recordEvent(client, chargeEvent(s, type, row));
}

const EVENT_OF: Partial<Record<ChargeStatus, OutboundEventType>> = {
  succeeded: "charge.succeeded",
  failed: "charge.failed",
};

/**
 * Writes the charge and its event in one transaction (or, in `client`, the caller's). A charge already recorded
 * under this key (a re-run after a crash) is answered as it is.
 */
export async function recordCharge(s: ApiServices, c: NewCharge, client?: TxClient): Promise<ChargeRow> {
  const write = async (tx: TxClient) => {
    // Inserted and read back in the API's shape in one statement (one round trip less per charge).
    const { rows } = await tx.query<ChargeRow>(
      `WITH c AS (INSERT INTO api_charges (charge_key, api_key_id, status, amount_cents, user_id, organisation_id,
              payee_user_id, description, reference, session_id, event_id, metadata, posting_id,
              balance_after_cents, top_up_cents, iou_id, card_payment_id, failure_code, session_batch_id)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)
       ON CONFLICT (charge_key) DO NOTHING RETURNING *)
       ${selectChargesFrom("c")}`,
      [
        c.chargeKey,
        c.apiKeyId,
        c.status,
        c.amountCents.toString(),
        c.userId,
        c.organisationId,
        c.payeeUserId,
        c.req.description,
        c.req.reference ?? null,
        c.req.session_id ?? null,
        c.req.event_id ?? null,
        JSON.stringify(c.req.metadata ?? {}),
        c.postingId?.toString() ?? null,
        c.balanceAfterCents?.toString() ?? null,
        c.topUpCents?.toString() ?? null,
        c.iouId ?? null,
        c.cardPaymentId ?? null,
        c.failureCode ?? null,
        c.sessionBatchId ?? null,
      ],
    );
    // Nothing inserted: a re-run after a crash finds the charge recorded before (and its event with it).
    if (rows.length === 0) return (await chargeByKey(tx, c.chargeKey))!;
    const row = rows[0]!;
    const event = EVENT_OF[c.status];
    if (event) await recordChargeEvent(s, tx, event, row);
    return row;
  };
  return client ? write(client) : inTransaction(s.p.pool, write);
}
