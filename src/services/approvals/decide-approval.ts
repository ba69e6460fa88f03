// A second finance editor approves or rejects a request (docs/audit.md). Approving is claimed by one UPDATE … WHERE
// status = 'pending', so of two editors clicking at once exactly one goes on to book; the booking runs the direct
// path's own service (book-approved.ts) under the key "approval:<id>", with the decision's audit row in the
// booking's transaction. A rule that fails at approval time marks the request failed with the reason; nothing is
// booked. The requester is told the outcome (Messages, and e-mail when configured).
import type { Db } from "../../db/client";
import type { ApprovalRequest, Prisma } from "../../generated/prisma/client";
import { AppError, badInput, conflict, forbidden, notFound } from "../../lib/errors";
import { type AuditActor, type AuditEvent, recordAudit } from "../audit/record";
import { messages } from "../notifications/messages";
import type { NotificationInput } from "../notifications/outbox";
import type { Payments } from "../payments/context";
import { bookApproved } from "./book-approved";

type Approver = AuditActor & { actorId: number };
type Tx = Prisma.TransactionClient;

/** An approval claimed this long ago whose approver never finished (the process died) may be claimed again:
 * booking under the request's key makes the second attempt a replay if the first did book. */
const STALE_CLAIM = "2 minutes";

export type Decision = { status: "approved" } | { status: "failed"; reason: string };

export async function approveRequest(p: Payments, id: number, approver: Approver): Promise<Decision> {
  const claimed = await p.db.$queryRaw<ApprovalRequest[]>`
    UPDATE approval_requests SET status = 'approving', decided_by_user_id = ${approver.actorId}, decided_at = now()
     WHERE id = ${id} AND requested_by_user_id <> ${approver.actorId} AND expires_at > now()
       AND (status = 'pending' OR (status = 'approving' AND decided_at < now() - ${STALE_CLAIM}::interval))
    RETURNING id, kind, status, request_key AS "requestKey", summary, amount_cents AS "amountCents",
              organisation_id AS "organisationId", target_user_id AS "targetUserId", payload,
              requested_by_user_id AS "requestedByUserId", requested_at AS "requestedAt", expires_at AS "expiresAt",
              decided_by_user_id AS "decidedByUserId", decided_at AS "decidedAt", outcome`;
  const r = claimed[0];
  if (!r) throw await whyNot(p.db, id, approver.actorId, "approve");
  const decision: AuditEvent = {
    ...approver,
    action: "approval.approve",
    targetType: "approval_request",
    targetId: r.id,
    orgId: r.organisationId,
    before: { status: "pending", requestedByUserId: r.requestedByUserId },
    after: { status: "approved", kind: r.kind, summary: r.summary, amountCents: r.amountCents },
  };
  try {
    await bookApproved(p, r, approver.actorId, { ...approver, also: [decision] });
  } catch (e) {
    if (!(e instanceof AppError) || e.status >= 500) {
      // Not a rule: the database or the card processor failed. Hand the request back, untouched, to try again.
      await p.db.approvalRequest.updateMany({
        where: { id, status: "approving", decidedByUserId: approver.actorId },
        data: { status: "pending", decidedByUserId: null, decidedAt: null },
      });
      throw e;
    }
    await finish(p.db, r, approver, "failed", e.message);
    return { status: "failed", reason: e.message };
  }
  await finish(p.db, r, approver, "approved", null);
  return { status: "approved" };
}

export async function rejectRequest(p: Payments, id: number, approver: Approver, note: string): Promise<void> {
  await p.db.$transaction(async (tx) => {
    const rows = await tx.$queryRaw<ApprovalRequest[]>`
      UPDATE approval_requests
         SET status = 'rejected', decided_by_user_id = ${approver.actorId}, decided_at = now(), outcome = ${note || null}
       WHERE id = ${id} AND status = 'pending' AND requested_by_user_id <> ${approver.actorId} AND expires_at > now()
      RETURNING id, summary, organisation_id AS "organisationId", requested_by_user_id AS "requestedByUserId"`;
    const r = rows[0];
    if (!r) throw await whyNot(tx, id, approver.actorId, "reject");
    await recordAudit(tx, {
      ...approver,
      action: "approval.reject",
      targetType: "approval_request",
      targetId: id,
      orgId: r.organisationId,
      before: { status: "pending", requestedByUserId: r.requestedByUserId },
      after: { status: "rejected", note: note || null },
    });
    await notify(tx, messages.approvalDecided(r, "rejected", await nameOf(tx, approver.actorId), note || null));
  });
}

/** The claimed request's end: approved or failed, its requester told, a failure in the trail. */
async function finish(
  db: Db,
  r: ApprovalRequest,
  approver: Approver,
  status: "approved" | "failed",
  reason: string | null,
) {
  await db.$transaction(async (tx) => {
    await tx.approvalRequest.updateMany({
      where: { id: r.id, status: "approving" },
      data: { status, outcome: reason, decidedByUserId: approver.actorId, decidedAt: new Date() },
    });
    if (status === "failed") {
      await recordAudit(tx, {
        ...approver,
        action: "approval.fail",
        targetType: "approval_request",
        targetId: r.id,
        orgId: r.organisationId,
        before: { status: "pending" },
        after: { status: "failed", reason },
      });
    }
    await notify(tx, messages.approvalDecided(r, status, await nameOf(tx, approver.actorId), reason));
  });
}

/** The message for an approval or rejection that found nothing to decide. */
async function whyNot(db: Db | Tx, id: number, me: number, verb: "approve" | "reject"): Promise<AppError> {
  const r = await db.approvalRequest.findUnique({ where: { id } });
  if (!r) return notFound("That approval request does not exist.");
  if (r.requestedByUserId === me) {
    return forbidden(`You asked for this yourself: another finance editor must ${verb} it.`);
  }
  if (r.status === "pending" && r.expiresAt <= new Date()) {
    return badInput(`This request expired on ${r.expiresAt.toISOString().slice(0, 10)}: it can no longer be decided.`);
  }
  const by = r.decidedByUserId ? await nameOf(db, r.decidedByUserId) : "someone";
  if (r.status === "approving") return conflict(`${by} is approving this request right now.`);
  return conflict(
    `This request was already ${r.status === "failed" ? "approved (but failed to book)" : r.status} by ${by}.`,
  );
}

async function nameOf(db: Db | Tx, userId: number) {
  const u = await db.user.findUnique({ where: { id: userId }, select: { firstName: true, lastName: true } });
  return u ? `${u.firstName} ${u.lastName}` : `User ${userId}`;
}

/** The outbox row of a decision, in the decision's transaction (its dedupe key makes a repeat write nothing). */
async function notify(tx: Tx, n: NotificationInput) {
  // As writeNotifications does for the posting paths: the e-mail greets its reader by name (read in this
  // transaction, so it is the name when the decision was made).
  const reader = n.userId
    ? await tx.user.findUnique({ where: { id: n.userId }, select: { firstName: true, lastName: true } })
    : null;
  const data = n.data && reader ? { ...n.data, recipientName: `${reader.firstName} ${reader.lastName}` } : n.data;
  await tx.notification.createMany({
    data: [
      {
        userId: n.userId ?? null,
        kind: n.kind,
        subject: n.subject,
        body: n.body,
        linkUrl: n.linkUrl ?? null,
        linkText: n.linkText ?? null,
        dedupeKey: n.dedupeKey,
        data: data as Prisma.InputJsonObject | undefined,
      },
    ],
    skipDuplicates: true,
  });
}
