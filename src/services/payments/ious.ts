// IOUs (reference §1.11, §3.12): a player, identified by ABF number (registered or not), owes a club. Only the
// debtor may pay one; paying books member → club and the UPP callback removes the IOU. The idempotency key is
// the IOU's own id, so paying the same IOU twice (two tabs, a double click) books once.
import { z } from "zod";
import { forbidden, notFound } from "../../lib/errors";
import { parseInput } from "../../lib/validation";
import type { Payments } from "./context";
import { paymentApiBatch } from "./payment-api-batch";

const createInput = z.object({
  systemNumber: z.number().int().positive(),
  organisationId: z.number().int().positive(),
  amountCents: z.bigint().positive("The amount must be more than zero."),
  description: z.string().trim().min(1, "A description is required.").max(100, "The description is too long."),
  clubSessionId: z.number().int().positive().nullish(),
});

export async function createIou(p: Payments, raw: z.input<typeof createInput>) {
  const data = parseInput(createInput, raw);
  return p.db.iou.create({ data });
}

/** The IOUs a member owes, oldest first. */
export async function listIousForMember(p: Payments, userId: number) {
  const user = await p.db.user.findUnique({ where: { id: userId }, select: { systemNumber: true } });
  if (!user) throw notFound("That member does not exist.");
  return p.db.iou.findMany({
    where: { systemNumber: user.systemNumber },
    orderBy: { createdAt: "asc" },
    include: { organisation: { select: { id: true, name: true } } },
  });
}

export async function payIou(p: Payments, req: { iouId: number; payerUserId: number }) {
  const [iou, payer] = await Promise.all([
    p.db.iou.findUnique({ where: { id: req.iouId } }),
    p.db.user.findUnique({ where: { id: req.payerUserId }, select: { systemNumber: true } }),
  ]);
  if (!iou || !payer) throw notFound("That IOU does not exist or has already been paid.");
  if (iou.systemNumber !== payer.systemNumber) throw forbidden("You can only pay your own IOUs.");
  const result = await paymentApiBatch(p, {
    memberId: req.payerUserId,
    organisationId: iou.organisationId,
    amountCents: iou.amountCents,
    description: iou.description,
    clubSessionId: iou.clubSessionId,
    idempotencyKey: `iou:${iou.id}`,
  });
  // Also on a replay: if an earlier attempt booked the payment but stopped before removing the IOU, finish now.
  if (result.ok) await p.callbacks.run("UPP", String(iou.id));
  return result;
}
