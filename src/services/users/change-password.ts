import { z } from "zod";
import { hashPassword, verifyPassword } from "../../auth/password";
import type { Db } from "../../db/client";
import type { Prisma } from "../../generated/prisma/client";
import { badInput, notFound } from "../../lib/errors";
import { parseInput } from "../../lib/validation";
import { type AuditActor, recordAudit } from "../audit/record";
import { newPasswordField } from "./user-fields";

const changePasswordInput = z
  .object({
    currentPassword: z.string({ message: "Current password is required." }).min(1, "Current password is required."),
    newPassword: newPasswordField,
    confirmPassword: z.string({ message: "Please repeat the new password." }),
  })
  .refine((v) => v.newPassword === v.confirmPassword, { message: "The two new passwords do not match." })
  .refine((v) => v.newPassword !== v.currentPassword, {
    message: "The new password must differ from the current one.",
  });

export type ChangePasswordInput = z.input<typeof changePasswordInput>;

/** A member changes their own password; the current one must be given. */
export async function changePassword(db: Db, userId: number, input: ChangePasswordInput) {
  const data = parseInput(changePasswordInput, input);
  const user = await db.user.findUnique({ where: { id: userId } });
  if (!user) throw notFound("Your account no longer exists.");
  if (!(await verifyPassword(user.passwordHash, data.currentPassword))) {
    throw badInput("The current password is not right.");
  }
  await setPassword(db, userId, data.newPassword);
}

/**
 * Sets a password without knowing the old one (operators' reset) and signs the user out everywhere. `audit`: who
 * reset it, recorded in the same transaction (never the password).
 */
export async function setPassword(db: Db, userId: number, password: string, audit?: AuditActor) {
  const plain = parseInput(newPasswordField, password);
  const passwordHash = await hashPassword(plain);
  await db.$transaction(async (tx) => {
    await tx.user.update({ where: { id: userId }, data: { passwordHash, passwordChangedAt: new Date() } });
    const sessions = await endSessions(tx, userId);
    if (audit) {
      await recordAudit(tx, {
        ...audit,
        action: "user.reset_password",
        targetType: "user",
        targetId: userId,
        after: { signedOutSessions: sessions },
      });
    }
  });
}

/**
 * Signs a user out everywhere (their session rows are deleted), except the session to keep, if given; answers
 * how many were ended.
 */
export async function endSessions(
  db: Db | Prisma.TransactionClient,
  userId: number,
  keepSid?: string,
): Promise<number> {
  return db.$executeRaw`
    DELETE FROM "session"
     WHERE (sess::jsonb -> 'passport' ->> 'user') = ${String(userId)}
       AND sid <> ${keepSid ?? ""}`;
}
