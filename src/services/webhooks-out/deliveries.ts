// The deliveries of one endpoint (newest first, keyset-paged) and re-sending one. A re-send only marks the row;
// the dispatcher enqueues the job (dispatcher.ts), so the web app needs no queue connection of its own.
import type { Db } from "../../db/client";
import { notFound } from "../../lib/errors";
import { type AuditActor, recordAudit } from "../audit/record";
import { type Actor, canManageEndpoints, getEndpoint } from "./endpoints";

const PAGE_SIZE = 50;

export async function listDeliveries(db: Db, actor: Actor, endpointId: number, before?: bigint) {
  await getEndpoint(db, actor, endpointId);
  const rows = await db.webhookDelivery.findMany({
    where: { endpointId, ...(before ? { id: { lt: before } } : {}) },
    orderBy: { id: "desc" },
    take: PAGE_SIZE + 1,
    include: { event: { select: { publicId: true, type: true, createdAt: true } } },
  });
  const more = rows.length > PAGE_SIZE;
  const page = rows.slice(0, PAGE_SIZE);
  return { rows: page, nextBefore: more ? page[page.length - 1]!.id : null };
}

/**
 * Asks for one more attempt of the same event to the same endpoint (a new attempt budget, same event id); its
 * audit row (`webhook_delivery.resend`) is written in the same transaction.
 */
export async function requestResend(db: Db, actor: Actor, deliveryId: bigint, audit: AuditActor) {
  const delivery = await db.webhookDelivery.findUnique({
    where: { id: deliveryId },
    select: {
      id: true,
      endpointId: true,
      status: true,
      attempts: true,
      endpoint: { select: { organisationId: true, enabled: true } },
    },
  });
  if (!delivery || !canManageEndpoints(actor, delivery.endpoint.organisationId)) {
    throw notFound("That delivery does not exist.");
  }
  await db.$transaction(async (tx) => {
    await tx.webhookDelivery.update({
      where: { id: deliveryId },
      data: { resendRequestedAt: new Date(), status: "pending", nextAttemptAt: new Date() },
    });
    await recordAudit(tx, {
      ...audit,
      action: "webhook_delivery.resend",
      targetType: "webhook_delivery",
      targetId: deliveryId,
      orgId: delivery.endpoint.organisationId,
      before: { status: delivery.status, attempts: delivery.attempts },
      after: { status: "pending", endpointId: delivery.endpointId },
    });
  });
  return { endpointId: delivery.endpointId, endpointEnabled: delivery.endpoint.enabled };
}
