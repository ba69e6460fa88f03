// IOUs (reference §1.11, §3.12): a player, identified by ABF number (registered or not), owes a club. Only the
// debtor may pay one; paying books member → club and the UPP callback removes the IOU. The idempotency key is
// the IOU's own id, so paying the same IOU twice (two tabs, a double click) books once.
import type pg from "pg";
import { z } from "zod";
import { forbidden, notFound } from "../../lib/errors";
import { parseInput } from "../../lib/validation";
import { inTransaction } from "../ledger/transaction";
import { messages } from "../notifications/messages";
import { writeNotifications } from "../notifications/outbox";
import type { Payments } from "./context";
import { type IouRow, recordIouEvent, removeIou } from "./iou-events";
import { paymentApiBatch } from "./payment-api-batch";
import { paymentApiInteractive } from "./payment-api-interactive";

const createInput = z.object({
  systemNumber: z.number().int().positive(),
  organisationId: z.number().int().positive(),
  amountCents: z.bigint().positive("The amount must be more than zero."),
  description: z.string().trim().min(1, "A description is required.").max(100, "The description is too long."),
  clubSessionId: z.number().int().positive().nullish(),
});

export type NewIou = z.output<typeof createInput> & { id: number };

/**
 * Records an IOU and, in the same transaction, the "Pending Payment" e-mail to the player (§3.21) and the
 * iou.created webhook event. `alsoInTransaction` writes the caller's own records of it (an API charge) in that
 * transaction too.
 */
export async function createIou(
  p: Payments,
  raw: z.input<typeof createInput>,
  alsoInTransaction?: (client: pg.PoolClient, iou: NewIou) => Promise<void>,
) {
  const data = parseInput(createInput, raw);
  const [org, player] = await Promise.all([
    p.db.organisation.findUnique({ where: { id: data.organisationId }, select: { name: true, clubNumber: true } }),
    p.db.user.findUnique({ where: { systemNumber: data.systemNumber }, select: { id: true, email: true } }),
  ]);
  if (!org) throw notFound("That organisation does not exist.");
  return inTransaction(p.pool, async (client) => {
    const iou = await createIouIn(client, data, org, player);
    await alsoInTransaction?.(client, iou);
    return iou;
  });
}

/**
 * Records an IOU inside the caller's transaction, with its e-mail and iou.created event (createIou's work, for
 * callers that must record it together with their own changes: a card dispute).
 */
export async function createIouIn(
  client: pg.PoolClient,
  data: Omit<NewIou, "id">,
  org: { name: string; clubNumber: string },
  player: { id: number; email: string } | null,
): Promise<NewIou> {
  const { rows } = await client.query<Omit<IouRow, "club_number">>(
    `INSERT INTO ious (system_number, organisation_id, amount_cents, description, club_session_id)
     VALUES ($1, $2, $3, $4, $5)
     RETURNING id, system_number, organisation_id, amount_cents::text, description, club_session_id, created_at`,
    [data.systemNumber, data.organisationId, data.amountCents.toString(), data.description, data.clubSessionId ?? null],
  );
  const id = rows[0]!.id;
  await recordIouEvent(client, "iou.created", { ...rows[0]!, club_number: org.clubNumber });
  // Unregistered players have no address here; the club's own system tells them.
  if (player) {
    await writeNotifications(client, [
      messages.iouCreated(
        {
          email: player.email,
          userId: player.id,
          orgName: org.name,
          amountCents: data.amountCents,
          description: data.description,
        },
        id,
      ),
    ]);
  }
  return { id, ...data };
}

/**
 * Cancels an unpaid IOU (the organisation forgives it, or it was raised in error) and records iou.cancelled in
 * the same transaction. With `organisationId`, only that organisation's IOU (an organisation's API key).
 */
export async function cancelIou(p: Payments, req: { iouId: number; organisationId?: number | null }) {
  const removed = await removeIou(p, req.iouId, "iou.cancelled", req.organisationId ?? null);
  if (!removed) throw notFound("That IOU does not exist or has already been paid or cancelled.");
  return removed;
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
  const iou = await debtorsIou(p, req);
  const result = await paymentApiBatch(p, {
    memberId: req.payerUserId,
    organisationId: iou.organisationId,
    amountCents: iou.amountCents,
    description: iou.description,
    clubSessionId: iou.clubSessionId,
    type: "Club Payment",
    idempotencyKey: `iou:${iou.id}`,
  });
  // Also on a replay: if an earlier attempt booked the payment but stopped before removing the IOU, finish now.
  if (result.ok) await p.callbacks.run("UPP", String(iou.id));
  return result;
}

/**
 * Paying an IOU from the member's page: from the balance when it covers it, otherwise by card for the rest; the
 * UPP callback removes the IOU once paid (at once, or when the card payment's webhook arrives).
 */
export async function payIouInteractive(p: Payments, req: { iouId: number; payerUserId: number }) {
  const iou = await debtorsIou(p, req);
  return paymentApiInteractive(p, {
    memberId: req.payerUserId,
    organisationId: iou.organisationId,
    amountCents: iou.amountCents,
    description: iou.description,
    clubSessionId: iou.clubSessionId,
    type: "Club Payment",
    routeCode: "UPP",
    routePayload: String(iou.id),
    nextUrl: "/dashboard",
    idempotencyKey: `iou:${iou.id}`,
  });
}

/** The IOU, if `payerUserId` is its debtor; the same "not found" for a missing or paid one. */
async function debtorsIou(p: Payments, req: { iouId: number; payerUserId: number }) {
  const [iou, payer] = await Promise.all([
    Number.isSafeInteger(req.iouId) ? p.db.iou.findUnique({ where: { id: req.iouId } }) : null,
    p.db.user.findUnique({ where: { id: req.payerUserId }, select: { systemNumber: true } }),
  ]);
  if (!iou || !payer) throw notFound("That IOU does not exist or has already been paid.");
  if (iou.systemNumber !== payer.systemNumber) throw forbidden("You can only pay your own IOUs.");
  return iou;
}
