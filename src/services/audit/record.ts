// The audit trail's one writer (docs/audit.md). Every staff action calls it inside the transaction that makes the
// change, so a row exists exactly when the change does: a refused or rolled-back action leaves none. Works on a
// pg client with an open transaction or on a Prisma transaction client.
import os from "node:os";
import type { TxClient } from "../ledger/book-postings";

/** Who did it and from where: the staff member and their request, or the operators' CLI. */
export interface AuditActor {
  /** The staff member's user id; null for the operators' CLI (then `actorLabel` is "cli:<OS user>"). */
  actorId: number | null;
  actorLabel?: string;
  requestId?: string | null;
  clientIp?: string | null;
}

export interface AuditEvent extends AuditActor {
  /** Dotted lower-case name: "adjustment.member", "api_key.revoke", "approval.approve"… */
  action: string;
  targetType: string;
  targetId: string | number | bigint;
  before?: unknown;
  after?: unknown;
  /** The club the action concerns, if any: its officers see the row on their audit page. */
  orgId?: number | null;
}

/** A Prisma transaction client (or the client itself, for a one-statement action). */
interface PrismaLike {
  $executeRawUnsafe(query: string, ...values: unknown[]): Promise<number>;
}

export type AuditDb = TxClient | PrismaLike;

/** The CLI as an actor: "cli:" and the operating-system user who ran it. */
export function cliActor(): AuditActor {
  let user = process.env.SUDO_USER || process.env.USER || "";
  try {
    user ||= os.userInfo().username;
  } catch {
    // no passwd entry (some containers): the environment is all there is
  }
  return { actorId: null, actorLabel: `cli:${user || "unknown"}` };
}

// JSON with bigints as strings (money is BigInt cents) and Dates as ISO text.
const toJson = (v: unknown) =>
  v === undefined || v === null ? null : JSON.stringify(v, (_k, x) => (typeof x === "bigint" ? x.toString() : x));

const INSERT = `
  INSERT INTO audit_events (actor_user_id, actor_label, action, target_type, target_id, organisation_id, before,
                            after, request_id, client_ip)
  SELECT $1::int, coalesce($2::text, (SELECT u.first_name || ' ' || u.last_name || ' (' || u.system_number || ')'
                                        FROM users u WHERE u.id = $1::int), 'user ' || $1::int),
         $3, $4, $5, $6::int, $7::jsonb, $8::jsonb, $9, $10`;

/** Writes audit rows inside the caller's transaction. */
export async function recordAudit(db: AuditDb, ...events: AuditEvent[]): Promise<void> {
  for (const e of events) {
    const values = [
      e.actorId,
      e.actorLabel ?? null,
      e.action,
      e.targetType,
      String(e.targetId),
      e.orgId ?? null,
      toJson(e.before),
      toJson(e.after),
      e.requestId ?? null,
      e.clientIp ?? null,
    ];
    if ("$executeRawUnsafe" in db) await db.$executeRawUnsafe(INSERT, ...values);
    else await db.query(INSERT, values);
  }
}

/**
 * What a service that books a staff action is told about the audit trail: the actor, and rows that belong to the
 * same transaction (an approval's decision beside the booking it makes).
 */
export interface AuditContext extends AuditActor {
  also?: AuditEvent[];
}

/** The rows of one action done by `ctx`: the action's own row first, then `ctx.also`. */
export function auditRows(ctx: AuditContext | undefined, event: Omit<AuditEvent, keyof AuditActor>): AuditEvent[] {
  if (!ctx) return [];
  const { also, ...actor } = ctx;
  return [{ ...actor, ...event }, ...(also ?? [])];
}
