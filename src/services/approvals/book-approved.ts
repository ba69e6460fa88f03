// Booking an approved request: the same service the direct path calls, with the requester's confirmed input, the
// approver as the actor and "approval:<id>" as its key, so every rule of the direct path applies again now (funds,
// refund limits, "still settleable"…) and a request books at most once whatever happens.
import type { ApprovalRequest } from "../../generated/prisma/client";
import type { AuditContext } from "../audit/record";
import { adminRefund } from "../cards/card-refunds";
import type { Payments } from "../payments/context";
import {
  adjustMemberBalance,
  adjustOrganisationBalance,
  settleOrganisationManually,
} from "../payments/manual-adjustment";
import { confirmSettlement } from "../settlement/settlement";
import type { ApprovalKind, ApprovalPayloads } from "./request-approval";

type Booker = (p: Payments, r: ApprovalRequest, approverId: number, audit: AuditContext) => Promise<unknown>;

const payloadOf = <K extends ApprovalKind>(r: ApprovalRequest, _kind: K) => r.payload as unknown as ApprovalPayloads[K];
const keyOf = (r: ApprovalRequest) => `approval:${r.id}`;
/** The amount and reason of a move, as its service takes them. */
const move = (x: { amountCents: string; description: string }) => ({
  amountCents: BigInt(x.amountCents),
  description: x.description,
});

const BOOKERS: Record<ApprovalKind, Booker> = {
  member_adjustment: (p, r, actorUserId, audit) => {
    const x = payloadOf(r, "member_adjustment");
    const input = { userId: x.userId, ...move(x), actorUserId, idempotencyKey: keyOf(r) };
    return adjustMemberBalance(p, input, audit);
  },
  org_adjustment: (p, r, actorUserId, audit) => {
    const x = payloadOf(r, "org_adjustment");
    const input = { organisationId: x.organisationId, ...move(x), actorUserId, idempotencyKey: keyOf(r) };
    return adjustOrganisationBalance(p, input, audit);
  },
  org_settlement: (p, r, actorUserId, audit) => {
    const x = payloadOf(r, "org_settlement");
    const input = { organisationId: x.organisationId, ...move(x), actorUserId, idempotencyKey: keyOf(r) };
    return settleOrganisationManually(p, input, audit);
  },
  admin_refund: (p, r, adminUserId, audit) => {
    const x = payloadOf(r, "admin_refund");
    return adminRefund(p, { cardPaymentId: x.cardPaymentId, ...move(x), adminUserId, requestKey: keyOf(r) }, audit);
  },
  settlement_batch: (p, r, actorUserId, audit) => {
    const x = payloadOf(r, "settlement_batch");
    const selection = x.selection.map((s) => ({
      organisationId: s.organisationId,
      overrideCents: s.overrideCents === null ? null : BigInt(s.overrideCents),
    }));
    const input = { referenceDate: x.referenceDate, selection, repeat: x.repeat };
    return confirmSettlement(p, { ...input, actorUserId, requestKey: keyOf(r) }, audit);
  },
};

export function bookApproved(p: Payments, r: ApprovalRequest, approverId: number, audit: AuditContext) {
  const book = BOOKERS[r.kind as ApprovalKind];
  if (!book) throw new Error(`approval request ${r.id} has an unknown kind ${r.kind}`);
  return book(p, r, approverId, audit);
}
