// Who did a staff action and from where, as the audit trail records it: the signed-in user, the request id
// pino-http gave the request (also its X-Request-Id header) and the client's address (from X-Forwarded-For only
// when TRUST_PROXY is set, as Express decides for req.ip).
import type { Request } from "express";
import { type AuditActor, type AuditDb, recordAudit } from "../services/audit/record";

export function auditActor(req: Request): AuditActor & { actorId: number } {
  if (!req.user) throw new Error("auditActor needs a signed-in request");
  return { actorId: req.user.id, requestId: req.id === undefined ? null : String(req.id), clientIp: req.ip ?? null };
}

/**
 * Records a download of other people's data (a member's or club's statement, balance lists, reports) before it
 * is sent. A download changes nothing, so its row is a transaction of its own.
 */
export async function recordExport(
  db: AuditDb,
  req: Request,
  what: { file: string; targetType: string; targetId: string | number; orgId?: number | null; filters?: unknown },
) {
  await recordAudit(db, {
    ...auditActor(req),
    action: "export.download",
    targetType: what.targetType,
    targetId: what.targetId,
    orgId: what.orgId ?? null,
    after: { file: what.file, filters: what.filters ?? null },
  });
}
