import { z } from "zod";
import type { Db } from "../../db/client";
import { notFound } from "../../lib/errors";
import { parseInput } from "../../lib/validation";

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

/** Grants (or changes the level of) a payments role; granting the same role twice is harmless. */
export async function grantRole(db: Db, input: GrantRoleInput) {
  const data = parseInput(grantInput, input);
  const where = { userId: data.userId, organisationId: data.organisationId };
  // One statement, so two operators granting at once cannot create duplicates (unique indexes back this up).
  const rows = await db.$queryRaw<{ id: number }[]>`
    INSERT INTO role_grants (user_id, organisation_id, level)
    VALUES (${data.userId}, ${data.organisationId}, ${data.level}::"RoleLevel")
    ON CONFLICT DO NOTHING
    RETURNING id`;
  if (rows.length === 0) await db.roleGrant.updateMany({ where, data: { level: data.level } });
  return db.roleGrant.findFirstOrThrow({ where });
}

/** Removes a role; says so when there was none to remove. */
export async function revokeRole(db: Db, userId: number, organisationId: number | null) {
  const { count } = await db.roleGrant.deleteMany({ where: { userId, organisationId } });
  if (count === 0) throw notFound("That user holds no such role.");
}
