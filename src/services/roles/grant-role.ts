import { z } from "zod";
import type { Db } from "../../db/client";
import { notFound } from "../../lib/errors";
import { parseInput } from "../../lib/validation";
import { type AuditActor, recordAudit } from "../audit/record";

const levelField = z
  .string({ message: "Level is required (view or edit)." })
  .trim()
  .toUpperCase()
  .pipe(z.enum(["VIEW", "EDIT"], { message: "Level must be view or edit." }));

const grantInput = z.object({
  userId: z.number().int().positive(),
  organisationId: z.number().int().positive().nullable(),
  level: levelField,
});
export type GrantRoleInput = z.input<typeof grantInput>;

/**
 * Grants (or changes the level of) a payments role; granting the same role twice is harmless. `audit`: who grants
 * it (the operators' CLI), recorded in the same transaction when something changed.
 */
export async function grantRole(db: Db, input: GrantRoleInput, audit?: AuditActor) {
  const data = parseInput(grantInput, input);
  const where = { userId: data.userId, organisationId: data.organisationId };
  return db.$transaction(async (tx) => {
    const before = await tx.roleGrant.findFirst({ where, select: { level: true } });
    // One statement, so two operators granting at once cannot create duplicates (unique indexes back this up).
    const rows = await tx.$queryRaw<{ id: number }[]>`
      INSERT INTO role_grants (user_id, organisation_id, level)
      VALUES (${data.userId}, ${data.organisationId}, ${data.level}::"RoleLevel")
      ON CONFLICT DO NOTHING
      RETURNING id`;
    if (rows.length === 0) await tx.roleGrant.updateMany({ where, data: { level: data.level } });
    const grant = await tx.roleGrant.findFirstOrThrow({ where });
    if (audit && before?.level !== grant.level) {
      await recordAudit(tx, roleRow(audit, "grant", data.userId, data.organisationId, before, { level: grant.level }));
    }
    return grant;
  });
}

const roleRow = (
  audit: AuditActor,
  what: string,
  userId: number,
  orgId: number | null,
  before: unknown,
  after: unknown,
) => ({
  ...audit,
  action: `role.${what}`,
  targetType: "user",
  targetId: userId,
  orgId,
  before,
  after: after && { ...after, scope: orgId === null ? "global" : `organisation ${orgId}` },
});

/** Removes a role; says so when there was none to remove. */
export async function revokeRole(db: Db, userId: number, organisationId: number | null, audit?: AuditActor) {
  await db.$transaction(async (tx) => {
    const gone = await tx.$queryRaw<{ level: string }[]>`
      DELETE FROM role_grants WHERE user_id = ${userId} AND organisation_id IS NOT DISTINCT FROM ${organisationId}::int
      RETURNING level::text`;
    if (gone.length === 0) throw notFound("That user holds no such role.");
    if (audit) await recordAudit(tx, roleRow(audit, "revoke", userId, organisationId, { level: gone[0]!.level }, null));
  });
}
