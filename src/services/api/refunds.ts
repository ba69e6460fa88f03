// An organisation gives a member back all or part of an API charge (a "Refund" posting: one posting, one type,
// on both sides). Never more than what is left of the charge: the charge row is locked
// while the refund is booked, in one transaction with the refund record and its event.
import { bookInTransaction, inTransaction } from "../ledger/transaction";
import type { ApiServices } from "./api-services";
import { chargeById } from "./charge-records";
import type { ApiCaller } from "./keys";
import { problem } from "./problem";
import { visibleCharge } from "./reads";

export interface RefundRequest {
  charge: string;
  amount?: number;
  description?: string;
}

interface RefundRow {
  id: number;
  charge_id: number;
  amount_cents: string;
  description: string;
  posting_id: string;
  created_at: Date;
}

export async function refundCharge(s: ApiServices, caller: ApiCaller, req: RefundRequest, refundKey: string) {
  const seen = await visibleCharge(s, caller, req.charge);
  const done = await refundByKey(s.p.pool, refundKey);
  if (done) return refundView(s, done);
  if (seen.status !== "succeeded" || seen.organisation_id === null) {
    throw problem("invalid_request", "Only a succeeded charge to an organisation can be refunded.");
  }
  const organisationId = seen.organisation_id;
  return inTransaction(s.p.pool, async (client) => {
    const { rows } = await client.query<{ amount_cents: string; refunded_cents: string }>(
      "SELECT amount_cents::text, refunded_cents::text FROM api_charges WHERE id = $1 FOR UPDATE",
      [seen.id],
    );
    const left = BigInt(rows[0]!.amount_cents) - BigInt(rows[0]!.refunded_cents);
    const amount = req.amount === undefined ? left : BigInt(req.amount);
    if (left <= 0n) throw problem("refund_too_large", "This charge has already been refunded in full.");
    if (amount > left) throw problem("refund_too_large", `At most ${left} cents of this charge are left to refund.`);
    const description = req.description ?? `Refund: ${seen.description}`.slice(0, 80);
    const booked = await bookInTransaction(client, {
      idempotencyKey: refundKey,
      type: "Refund",
      description,
      clubSessionId: seen.session_id,
      eventId: seen.event_id,
      entries: [
        { organisationId, amountCents: -amount, counterparty: 1 },
        { userId: seen.user_id, amountCents: amount, counterparty: 0 },
      ],
    });
    if (booked.status === "INSUFFICIENT_FUNDS") {
      throw problem("insufficient_funds", "The organisation's balance does not cover the refund.");
    }
    if (booked.status !== "POSTED" && booked.status !== "DUPLICATE") {
      throw problem("invalid_request", `The refund could not be booked (${booked.status}).`);
    }
    await client.query(
      "UPDATE api_charges SET refunded_cents = refunded_cents + $2, updated_at = now() WHERE id = $1",
      [seen.id, amount.toString()],
    );
    const { rows: inserted } = await client.query<RefundRow>(
      `INSERT INTO api_refunds (refund_key, charge_id, api_key_id, amount_cents, description, posting_id)
       VALUES ($1, $2, $3, $4, $5, $6)
       RETURNING id, charge_id, amount_cents::text, description, posting_id::text, created_at`,
      [refundKey, seen.id, caller.keyId, amount.toString(), description, booked.postingId.toString()],
    );
    const view = await refundView(s, inserted[0]!, client);
    if (s.recordEvent) {
      await s.recordEvent(client, {
        organisationId,
        type: "refund.succeeded",
        data: { refund: view },
        sourceKey: `refund.succeeded:${view.id}`,
      });
    }
    return view;
  });
}

async function refundByKey(client: Parameters<typeof chargeById>[0], key: string) {
  const { rows } = await client.query<RefundRow>(
    `SELECT id, charge_id, amount_cents::text, description, posting_id::text, created_at
       FROM api_refunds WHERE refund_key = $1`,
    [key],
  );
  return rows[0] ?? null;
}

async function refundView(s: ApiServices, r: RefundRow, client: Parameters<typeof chargeById>[0] = s.p.pool) {
  const [charge, posting] = await Promise.all([
    chargeById(client, r.charge_id),
    client.query<{ reference_no: string }>("SELECT reference_no FROM postings WHERE id = $1", [r.posting_id]),
  ]);
  return {
    id: `re_${r.id}`,
    object: "refund" as const,
    charge: `ch_${r.charge_id}`,
    amount: Number(r.amount_cents),
    currency: "aud" as const,
    description: r.description,
    posting_reference: posting.rows[0]!.reference_no,
    charge_amount_refunded: Number(charge!.refunded_cents),
    created: r.created_at.toISOString(),
  };
}
