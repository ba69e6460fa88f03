// The disputes page's data and actions: the list, finance's "Check with Stripe" for one dispute, and in emulator
// mode the demo actions that make the emulator open or decide a dispute (its events then do the booking).
import { badInput, notFound } from "../../lib/errors";
import { type AuditActor, recordAudit } from "../audit/record";
import { CardGatewayError, type EmulatorControls } from "../payments/card-gateway";
import type { Payments } from "../payments/context";
import { inTransaction } from "../ledger/transaction";
import { applyDisputeEvent } from "./dispute-events";

/** Stripe's dispute reasons the emulator may be asked to open a dispute with. */
export const DISPUTE_REASONS = [
  "fraudulent",
  "duplicate",
  "product_not_received",
  "subscription_canceled",
  "credit_not_processed",
  "general",
] as const;

export async function listDisputes(p: Payments) {
  const rows = await p.db.cardDispute.findMany({ orderBy: { createdAt: "desc" }, take: 200 });
  const users = await p.db.user.findMany({
    where: { id: { in: [...new Set(rows.map((r) => r.userId))] } },
    select: { id: true, firstName: true, lastName: true, systemNumber: true },
  });
  const byId = new Map(users.map((u) => [u.id, u]));
  return rows.map((r) => ({ ...r, user: byId.get(r.userId) ?? null, open: r.closedAt === null }));
}

/**
 * Finance's repair for a missed or failed dispute event: Stripe's dispute as it is now goes through the same
 * matching and booking as an event carrying it.
 */
export async function checkDisputeWithStripe(p: Payments, id: string, audit: AuditActor): Promise<string> {
  const known = await p.db.cardDispute.findUnique({ where: { id } });
  if (!known) throw notFound("That dispute does not exist.");
  const d = await p.gateway.retrieveDispute(id);
  if (!d) return `Stripe has no dispute ${id}.`;
  const object = {
    id: d.id,
    amount: Number(d.amountCents),
    currency: d.currency,
    charge: d.chargeId,
    payment_intent: d.paymentIntentId,
  };
  return inTransaction(p.pool, async (client) => {
    const r = await applyDisputeEvent(p, client, object, { kind: "dispute", dispute: d });
    // A repair that booked something is in the audit trail, in its transaction.
    if ("changed" in r && r.changed) {
      await recordAudit(client, {
        ...audit,
        action: "stripe.repair",
        targetType: "card_dispute",
        targetId: id,
        before: {
          status: known.status,
          withdrawn: known.withdrawnAt !== null,
          reinstated: known.reinstatedAt !== null,
        },
        after: { status: d.status, outcome: r.outcome },
      });
    }
    return r.outcome;
  });
}

function controls(p: Payments): EmulatorControls {
  if (!p.gateway.emulator) throw notFound("This action exists only with the local Stripe emulator.");
  return p.gateway.emulator;
}

const refused = (e: unknown): never => {
  if (e instanceof CardGatewayError && e.kind === "invalid") throw badInput(`The emulator refused: ${e.message}`);
  throw e;
};

/** Emulator mode: the cardholder disputes one of our booked card payments. */
export async function openDisputeAtEmulator(p: Payments, cardPaymentId: number, reason: string) {
  const emulator = controls(p);
  const card = await p.db.cardPayment.findUnique({ where: { id: cardPaymentId } });
  if (!card?.stripeChargeId || !["SUCCEEDED", "PARTIAL_REFUND"].includes(card.status)) {
    throw badInput(`Card payment ${cardPaymentId} is not a succeeded card payment that can be disputed.`);
  }
  return emulator.openDispute(card.stripeChargeId, reason).catch(refused);
}

/** Emulator mode: the card network decides an open dispute. */
export async function closeDisputeAtEmulator(p: Payments, disputeId: string, outcome: "won" | "lost") {
  const emulator = controls(p);
  if (!(await p.db.cardDispute.findUnique({ where: { id: disputeId } })))
    throw notFound("That dispute does not exist.");
  await emulator.closeDispute(disputeId, outcome).catch(refused);
}

/** Emulator mode: Stripe pays out the available balance now (or the bank refuses it, for demos). */
export async function payOutAtEmulator(p: Payments, fail: boolean) {
  return controls(p).payOutNow({ fail }).catch(refused);
}
