// Member-to-member transfer (reference §3.6) with the rules the original only checked in the browser, now on
// the server: a positive amount of at most $2,000, not to yourself, to an active member.
import { z } from "zod";
import { badInput, notFound } from "../../lib/errors";
import { parseInput } from "../../lib/validation";
import type { Payments } from "./context";
import { descriptionField, idempotencyKeyField, recipientField } from "./fields";
import { type PaymentApiResult, paymentApiBatch } from "./payment-api-batch";

export const MAX_TRANSFER_CENTS = 200_000n;

const input = z.object({
  fromUserId: z.number().int().positive(),
  toUserId: recipientField,
  amountCents: z
    .bigint()
    .positive("Must be a positive amount.")
    .max(MAX_TRANSFER_CENTS, "Too large. Maximum transfer amount is 2,000 credits."),
  description: descriptionField(),
  idempotencyKey: idempotencyKeyField,
});

export type MemberTransferInput = z.input<typeof input>;

export type MemberTransferResult =
  | Extract<PaymentApiResult, { ok: true }>
  /** Not enough money and no (successful) auto top-up: the rest can be paid by card (issue: checkout). */
  | (Extract<PaymentApiResult, { ok: false }> & { cardAmountCents: bigint });

export async function memberTransfer(p: Payments, raw: MemberTransferInput): Promise<MemberTransferResult> {
  const req = parseInput(input, raw);
  if (req.toUserId === req.fromUserId) throw badInput("You cannot transfer to yourself.");
  const recipient = await p.db.user.findUnique({ where: { id: req.toUserId }, select: { isActive: true } });
  if (!recipient) throw notFound("That member does not exist.");
  if (!recipient.isActive) throw badInput("That member's account is not active.");
  const r = await paymentApiBatch(p, {
    memberId: req.fromUserId,
    otherMemberId: req.toUserId,
    amountCents: req.amountCents,
    description: req.description,
    type: "Member Transfer",
    idempotencyKey: req.idempotencyKey,
  });
  if (r.ok) return r;
  // The member's positive balance is used first; a card pays the rest (§3.2 step 3).
  const usable = r.balanceCents > 0n ? r.balanceCents : 0n;
  return { ...r, cardAmountCents: req.amountCents - usable };
}
