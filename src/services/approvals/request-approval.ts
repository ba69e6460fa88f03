// Money moves above the thresholds of the payment settings wait for a second finance editor (docs/audit.md). The
// direct path asks `needsApproval`; when it says yes, the confirmed form becomes a request instead of a booking.
// The request and its audit row are written in one transaction; the same form submitted twice makes one request.
import type { Db } from "../../db/client";
import { type AuditActor, recordAudit } from "../audit/record";
import { activePaymentSettings } from "../payments/settings";

export type ApprovalKind =
  | "member_adjustment"
  | "org_adjustment"
  | "org_settlement"
  | "admin_refund"
  | "settlement_batch";

/** What approving books: the direct path's service input, amounts as decimal strings of cents (JSON has no bigint). */
export interface ApprovalPayloads {
  member_adjustment: { userId: number; amountCents: string; description: string };
  org_adjustment: { organisationId: number; amountCents: string; description: string };
  org_settlement: { organisationId: number; amountCents: string; description: string };
  admin_refund: { cardPaymentId: number; amountCents: string; description: string };
  settlement_batch: {
    referenceDate: string;
    selection: { organisationId: number; overrideCents: string | null }[];
    repeat: boolean;
  };
}

/** How long a request may be approved. */
export const APPROVAL_VALID_DAYS = 7;

/** Whether a move of `amountCents` (either sign) is above the threshold of its kind in the settings in force. */
export async function needsApproval(db: Db, what: "move" | "settlement", amountCents: bigint): Promise<boolean> {
  const s = await activePaymentSettings(db);
  const threshold = what === "move" ? s.approvalThresholdCents : s.settlementApprovalThresholdCents;
  return (amountCents < 0n ? -amountCents : amountCents) > threshold;
}

export interface ApprovalRequestInput<K extends ApprovalKind> {
  kind: K;
  /** The requesting form's id (with the requester's): the same form again answers the same request. */
  requestKey: string;
  summary: string;
  amountCents: bigint;
  organisationId?: number | null;
  targetUserId?: number | null;
  payload: ApprovalPayloads[K];
}

export async function requestApproval<K extends ApprovalKind>(
  db: Db,
  input: ApprovalRequestInput<K>,
  actor: AuditActor & { actorId: number },
): Promise<{ id: number; created: boolean }> {
  return db.$transaction(async (tx) => {
    const rows = await tx.$queryRaw<{ id: number }[]>`
      INSERT INTO approval_requests (kind, request_key, summary, amount_cents, organisation_id, target_user_id,
                                     payload, requested_by_user_id, expires_at)
      VALUES (${input.kind}, ${input.requestKey}, ${input.summary}, ${input.amountCents},
              ${input.organisationId ?? null}::int, ${input.targetUserId ?? null}::int,
              ${JSON.stringify(input.payload)}::jsonb, ${actor.actorId},
              now() + make_interval(days => ${APPROVAL_VALID_DAYS}))
      ON CONFLICT (request_key) DO NOTHING
      RETURNING id`;
    const id = rows[0]?.id;
    if (id === undefined) {
      const prior = await tx.approvalRequest.findUniqueOrThrow({ where: { requestKey: input.requestKey } });
      return { id: prior.id, created: false };
    }
    await recordAudit(tx, {
      ...actor,
      action: "approval.request",
      targetType: "approval_request",
      targetId: id,
      orgId: input.organisationId ?? null,
      after: {
        kind: input.kind,
        summary: input.summary,
        amountCents: input.amountCents,
        targetUserId: input.targetUserId ?? null,
        payload: input.payload,
      },
    });
    return { id, created: true };
  });
}
