// Reading the audit trail (docs/audit.md): filtered by who, what, target and dates, newest first, in pages or all
// of it for the CSV. Finance staff see every row; a club officer only the rows of their clubs.
import { Prisma } from "../../generated/prisma/client";
import type { Db } from "../../db/client";
import { escapeLike } from "../../lib/like";

export interface AuditFilters {
  /** Part of the actor's name, ABF number or "cli:<user>", any case. */
  who?: string;
  /** An action ("adjustment.member") or its family ("adjustment"). */
  action?: string;
  targetType?: string;
  targetId?: string;
  /** Calendar dates in the app's time zone, both ends included. */
  from?: string;
  to?: string;
}

export interface AuditScope {
  /** "all" for finance staff; otherwise the organisations whose rows may be seen. */
  orgs: "all" | number[];
  timeZone: string;
}

export interface AuditRow {
  id: bigint;
  occurredAt: Date;
  actorUserId: number | null;
  actorLabel: string;
  action: string;
  targetType: string;
  targetId: string;
  organisationId: number | null;
  organisationName: string | null;
  before: unknown;
  after: unknown;
  requestId: string | null;
  clientIp: string | null;
}

function whereOf(f: AuditFilters, scope: AuditScope) {
  const parts: Prisma.Sql[] = [];
  if (scope.orgs !== "all") parts.push(Prisma.sql`a.organisation_id = ANY(${scope.orgs}::int[])`);
  if (f.who) parts.push(Prisma.sql`a.actor_label ILIKE ${`%${escapeLike(f.who)}%`}`);
  if (f.action) parts.push(Prisma.sql`(a.action = ${f.action} OR a.action LIKE ${`${escapeLike(f.action)}.%`})`);
  if (f.targetType) parts.push(Prisma.sql`a.target_type = ${f.targetType}`);
  if (f.targetId) parts.push(Prisma.sql`a.target_id = ${f.targetId}`);
  if (f.from) parts.push(Prisma.sql`a.occurred_at >= (${f.from}::date::timestamp AT TIME ZONE ${scope.timeZone})`);
  if (f.to) parts.push(Prisma.sql`a.occurred_at < ((${f.to}::date + 1)::timestamp AT TIME ZONE ${scope.timeZone})`);
  return parts.length ? Prisma.sql`WHERE ${Prisma.join(parts, " AND ")}` : Prisma.empty;
}

const SELECT = Prisma.sql`
  SELECT a.id, a.occurred_at AS "occurredAt", a.actor_user_id AS "actorUserId", a.actor_label AS "actorLabel",
         a.action, a.target_type AS "targetType", a.target_id AS "targetId", a.organisation_id AS "organisationId",
         o.name AS "organisationName", a.before, a.after, a.request_id AS "requestId", a.client_ip AS "clientIp"
    FROM audit_events a LEFT JOIN organisations o ON o.id = a.organisation_id`;

export async function auditPage(db: Db, f: AuditFilters, scope: AuditScope, page: number, pageSize = 50) {
  const where = whereOf(f, scope);
  const [rows, count] = await Promise.all([
    db.$queryRaw<AuditRow[]>`${SELECT} ${where} ORDER BY a.id DESC LIMIT ${pageSize} OFFSET ${(page - 1) * pageSize}`,
    db.$queryRaw<{ n: bigint }[]>`SELECT count(*) AS n FROM audit_events a ${where}`,
  ]);
  const total = Number(count[0]?.n ?? 0);
  return { rows, total, pages: Math.max(1, Math.ceil(total / pageSize)) };
}

/** Every matching row, newest first, in slices (for the CSV). */
export async function* allAuditRows(db: Db, f: AuditFilters, scope: AuditScope, slice = 1000) {
  const where = whereOf(f, scope);
  let before: bigint | null = null;
  for (;;) {
    const cursor: Prisma.Sql =
      before === null
        ? Prisma.empty
        : Prisma.sql`${where === Prisma.empty ? Prisma.sql`WHERE` : Prisma.sql`AND`} a.id < ${before}`;
    const rows = await db.$queryRaw<AuditRow[]>`${SELECT} ${where} ${cursor} ORDER BY a.id DESC LIMIT ${slice}`;
    yield* rows;
    if (rows.length < slice) return;
    before = rows[rows.length - 1]!.id;
  }
}

/** The actions recorded so far in what `scope` may see, for the filter's choices. */
export async function auditActions(db: Db, scope: AuditScope): Promise<string[]> {
  const rows = await db.$queryRaw<{ action: string }[]>`
    SELECT DISTINCT a.action FROM audit_events a ${whereOf({}, scope)} ORDER BY a.action`;
  return rows.map((r) => r.action);
}
