// The payments module's own callbacks: M2M (a member transfer paid by card: tell both members) and UPP (an IOU
// was paid: remove it).
import type { Payments } from "./context";
import { removeIou } from "./iou-events";

export function registerBuiltInCallbacks(p: Payments) {
  // The IOU's removal and its iou.paid event share a transaction (the payment itself was booked just before,
  // by the ledger engine; a replay of the payment runs this again, which then finds nothing to remove).
  p.callbacks.register("UPP", async (payload, ctx) => {
    // The paying posting: the card's purchase when a card paid (settle-card-payment.ts), else the payment from
    // the balance, booked under the IOU's own key (ious.ts).
    const paidBy = ctx.cardPaymentId ? `card:${ctx.cardPaymentId}:purchase` : `iou:${payload}`;
    const removed = await removeIou(p, Number(payload), "iou.paid", null, paidBy);
    if (!removed) p.logger.error({ iouId: payload }, "UPP callback: IOU not found (already removed?)");
  });

  p.callbacks.register("M2M", async (_payload, ctx) => {
    // Paid from balance, the transfer already told both members; only the card path needs this.
    if (!ctx.cardPaymentId) return;
    const card = await p.db.cardPayment.findUnique({ where: { id: ctx.cardPaymentId } });
    if (!card?.userId || !card.linkedUserId || !card.linkedAmountCents) {
      p.logger.error({ cardPaymentId: ctx.cardPaymentId }, "M2M callback: card payment is not a member transfer");
      return;
    }
    p.events.emit("memberTransfer", {
      fromUserId: card.userId,
      toUserId: card.linkedUserId,
      amountCents: card.linkedAmountCents,
      description: card.description,
    });
  });
}
