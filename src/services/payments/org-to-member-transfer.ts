// A club pays a member from its account (reference §3.7): positive amounts only, at most the club's balance
// (checked under the lock), to an active member; the officer who did it is recorded.
import { z } from "zod";
import { badInput, conflict, notFound } from "../../lib/errors";
import { formatMoney } from "../../lib/money";
import { parseInput } from "../../lib/validation";
import type { Payments } from "./context";
import { descriptionField, idempotencyKeyField, recipientField } from "./fields";

const input = z.object({
  organisationId: z.number().int().positive(),
  toUserId: recipientField,
  amountCents: z.bigint().positive("Must be a positive amount."),
  description: descriptionField(),
  actorUserId: z.number().int().positive(),
  idempotencyKey: idempotencyKeyField,
});

export type OrgToMemberTransferInput = z.input<typeof input>;

export async function orgToMemberTransfer(p: Payments, raw: OrgToMemberTransferInput) {
  const req = parseInput(input, raw);
  const recipient = await p.db.user.findUnique({ where: { id: req.toUserId }, select: { isActive: true } });
  if (!recipient) throw notFound("That member does not exist.");
  if (!recipient.isActive) throw badInput("That member's account is not active.");
  const r = await p.ledger.post({
    idempotencyKey: req.idempotencyKey,
    type: "Org Transfer",
    description: req.description,
    actorUserId: req.actorUserId,
    entries: [
      { organisationId: req.organisationId, amountCents: -req.amountCents, type: "Member Transfer", counterparty: 1 },
      { userId: req.toUserId, amountCents: req.amountCents, type: "Org Transfer", counterparty: 0 },
    ],
  });
  switch (r.status) {
    case "POSTED":
      p.events.emit("orgTransfer", {
        organisationId: req.organisationId,
        toUserId: req.toUserId,
        amountCents: req.amountCents,
        description: req.description,
        actorUserId: req.actorUserId,
      });
      return { postingId: r.postingId, replayed: false };
    case "DUPLICATE":
      return { postingId: r.postingId, replayed: true };
    case "INSUFFICIENT_FUNDS":
      throw badInput(`Insufficient funds: the club's balance is ${formatMoney(r.balanceCents)}.`);
    case "KEY_REUSED":
      throw conflict("That transfer reference was already used for a different transfer.");
    default:
      throw badInput(`The transfer could not be booked: ${r.reason}.`);
  }
}
