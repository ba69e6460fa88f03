// A club pays a member from its account (reference §3.7): positive amounts only, at most the club's balance
// (checked under the lock), to an active member; the officer who did it is recorded. Both sides show the one type
// "Org Transfer" (reference §1.1 names the member side so; its "Member Transfer" on the club's side gave the same
// posting two names, and "Member Transfer" is the member-to-member transfer).
import { z } from "zod";
import { badInput, conflict, notFound } from "../../lib/errors";
import { formatMoney } from "../../lib/money";
import { parseInput } from "../../lib/validation";
import { messages } from "../notifications/messages";
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
  const [recipient, org, admin] = await Promise.all([
    p.db.user.findUnique({ where: { id: req.toUserId }, select: { isActive: true } }),
    p.db.organisation.findUnique({ where: { id: req.organisationId }, select: { name: true } }),
    p.db.user.findUnique({ where: { id: req.actorUserId }, select: { firstName: true, lastName: true } }),
  ]);
  if (!recipient) throw notFound("That member does not exist.");
  if (!recipient.isActive) throw badInput("That member's account is not active.");
  if (!org) throw notFound("That organisation does not exist.");
  const r = await p.ledger.post({
    idempotencyKey: req.idempotencyKey,
    type: "Org Transfer",
    description: req.description,
    actorUserId: req.actorUserId,
    entries: [
      { organisationId: req.organisationId, amountCents: -req.amountCents, counterparty: 1 },
      { userId: req.toUserId, amountCents: req.amountCents, counterparty: 0 },
    ],
    notify: [
      messages.orgTransfer(
        {
          userId: req.toUserId,
          orgName: org.name,
          adminName: admin ? `${admin.firstName} ${admin.lastName}` : "a club officer",
          amountCents: req.amountCents,
          description: req.description,
        },
        req.idempotencyKey,
      ),
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
