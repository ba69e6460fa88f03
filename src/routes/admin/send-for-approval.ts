// The direct path's fork for a money move above the approval threshold: the confirmed form becomes an approval
// request, the editor is told so, and the approvals page shows it.
import type { Request, Response } from "express";
import type { Db } from "../../db/client";
import {
  type ApprovalKind,
  type ApprovalRequestInput,
  requestApproval,
} from "../../services/approvals/request-approval";
import { auditActor } from "../../web/audit-actor";
import { flash } from "../../web/flash";

export async function sendForApproval<K extends ApprovalKind>(
  db: Db,
  req: Request,
  res: Response,
  input: ApprovalRequestInput<K>,
) {
  const { id, created } = await requestApproval(db, input, auditActor(req));
  flash(
    req,
    "info",
    created
      ? `Above the approval threshold: request ${id} waits for another finance editor. Nothing is booked until then.`
      : `This form was already sent for approval as request ${id}.`,
  );
  res.redirect("/payments/approvals");
}
