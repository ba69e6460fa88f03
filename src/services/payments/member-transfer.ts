// Member-to-member transfer (reference §3.6) with the rules the original only checked in the browser, now on
// the server: a positive amount of at most $2,000, not to yourself, to an active member.
import { z } from "zod";
import { badInput, notFound } from "../../lib/errors";
import { parseInput } from "../../lib/validation";
import type { Payments } from "./context";
import { descriptionField, idempotencyKeyField, recipientField } from "./fields";
import { type PaymentApiResult, paymentApiBatch } from "./payment-api-batch";
import { paymentApiInteractive } from "./payment-api-interactive";

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

/** The server-side rules the original left to the browser (§3.6 "gaps as coded"). */
async function checked(p: Payments, raw: MemberTransferInput) {
  const req = parseInput(input, raw);
  if (req.toUserId === req.fromUserId) throw badInput("You cannot transfer to yourself.");
  const recipient = await p.db.user.findUnique({ where: { id: req.toUserId }, select: { isActive: true } });
  if (!recipient) throw notFound("That member does not exist.");
  if (!recipient.isActive) throw badInput("That member's account is not active.");
  return req;
}

export async function memberTransfer(p: Payments, raw: MemberTransferInput): Promise<MemberTransferResult> {
  const req = await checked(p, raw);
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

/**
 * The member-transfer page's transfer (§3.6): from the balance (or an auto top-up) when it covers it; otherwise a
 * card checkout for the rest, after which the webhook books the transfer and both members are told.
 */
export async function memberTransferInteractive(p: Payments, raw: MemberTransferInput) {
  const req = await checked(p, raw);
  return paymentApiInteractive(p, {
    memberId: req.fromUserId,
    otherMemberId: req.toUserId,
    amountCents: req.amountCents,
    description: req.description,
    type: "Member Transfer",
    routeCode: "M2M",
    routePayload: "",
    nextUrl: "/dashboard",
    idempotencyKey: req.idempotencyKey,
  });
}
