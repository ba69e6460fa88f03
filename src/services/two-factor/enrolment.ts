// Enrolling an authenticator, switching two-factor sign-in off, and the operators' reset. Enrolment keeps its
// new secret in the database (encrypted, not yet enabled) so reloading the page shows the same QR code; it is
// enabled only by a correct current code, which also counts as that step's one use.
import type { Db } from "../../db/client";
import type { Prisma } from "../../generated/prisma/client";
import { badInput, conflict } from "../../lib/errors";
import { type AuditActor, recordAudit } from "../audit/record";
import { holdsAnyEdit, type Permissions } from "../roles/permissions";
import { endSessions } from "../users/change-password";
import { replaceRecoveryCodes } from "./recovery-codes";
import type { SecretBox } from "./secret-box";
import { newTotpSecret, otpauthUri } from "./totp";
import { spendTotpCode } from "./verify";

export const CODE_REFUSED = "That code is not right, or it was used already. Enter the current code from your app.";

export async function twoFactorStatus(db: Db, userId: number) {
  const row = await db.twoFactorSecret.findUnique({ where: { userId }, select: { enabledAt: true } });
  const enabledAt = row?.enabledAt ?? null;
  const recoveryLeft = enabledAt ? await db.recoveryCode.count({ where: { userId, usedAt: null } }) : 0;
  return { enabledAt, recoveryLeft };
}

/** The secret being enrolled (a new one, or the one shown before), with its otpauth:// URI for the QR code. */
export async function startEnrolment(db: Db, box: SecretBox, user: { id: number; email: string }) {
  const row = await db.twoFactorSecret.findUnique({ where: { userId: user.id } });
  if (row?.enabledAt) throw conflict("Two-factor sign-in is already set up.");
  let secret: string;
  if (row) secret = box.decrypt(user.id, row.secretEncrypted);
  else {
    secret = newTotpSecret();
    // Two tabs opening the page at once: the first secret stays, the second tab shows it after a reload.
    await db.twoFactorSecret.createMany({
      data: [{ userId: user.id, secretEncrypted: box.encrypt(user.id, secret) }],
      skipDuplicates: true,
    });
    const stored = await db.twoFactorSecret.findUniqueOrThrow({ where: { userId: user.id } });
    secret = box.decrypt(user.id, stored.secretEncrypted);
  }
  return { secret, uri: otpauthUri(secret, user.email) };
}

/**
 * Enables the pending secret when `code` is its current code; answers the recovery codes to show once.
 * `onEnrolled` runs in the same transaction (the audit trail's row).
 */
export async function confirmEnrolment(
  db: Db,
  box: SecretBox,
  userId: number,
  code: string,
  onEnrolled?: (tx: Prisma.TransactionClient) => Promise<unknown>,
) {
  return db.$transaction(async (tx) => {
    const rows = await tx.$queryRaw<{ secret_encrypted: string; enabled_at: Date | null }[]>`
      SELECT secret_encrypted, enabled_at FROM two_factor_secrets WHERE user_id = ${userId} FOR UPDATE`;
    const row = rows[0];
    if (!row) throw badInput("Start again: open the two-factor page to get a QR code.");
    if (row.enabled_at) throw conflict("Two-factor sign-in is already set up.");
    if (!(await spendTotpCode(tx, box, userId, row.secret_encrypted, code))) throw badInput(CODE_REFUSED);
    await tx.twoFactorSecret.update({ where: { userId }, data: { enabledAt: new Date() } });
    const codes = await replaceRecoveryCodes(tx, box, userId);
    await onEnrolled?.(tx);
    return codes;
  });
}

/** Enrols with a known secret at once (the demo staff's fixed demo secret). */
export async function enrolWithSecret(tx: Prisma.TransactionClient, box: SecretBox, userId: number, secret: string) {
  const data = { secretEncrypted: box.encrypt(userId, secret), enabledAt: new Date(), lastUsedStep: null };
  await tx.twoFactorSecret.upsert({ where: { userId }, create: { userId, ...data }, update: data });
}

/**
 * A member or viewer switches it off, proving it with a current code; anyone holding an EDIT role may not. Its
 * audit row is written in the same transaction.
 */
export async function disableTwoFactor(
  db: Db,
  box: SecretBox,
  user: { id: number; permissions: Permissions },
  code: string,
  audit: AuditActor,
) {
  if (holdsAnyEdit(user.permissions)) {
    throw badInput("Two-factor sign-in is required while you hold a payments editing role.");
  }
  await db.$transaction(async (tx) => {
    const row = await tx.twoFactorSecret.findUnique({ where: { userId: user.id } });
    if (!row?.enabledAt) throw badInput("Two-factor sign-in is not switched on.");
    if (!(await spendTotpCode(tx, box, user.id, row.secretEncrypted, code))) throw badInput(CODE_REFUSED);
    await tx.recoveryCode.deleteMany({ where: { userId: user.id } });
    await tx.twoFactorSecret.delete({ where: { userId: user.id } });
    await recordAudit(tx, { ...audit, action: "two_factor.disable", targetType: "user", targetId: user.id });
  });
}

/**
 * Operators' reset for a lost phone: the secret and recovery codes are deleted and the user is signed out
 * everywhere; an EDIT holder enrols again at their next sign-in. `onReset` (the audit row) runs in the same
 * transaction, told whether there was a second factor to remove and how many sessions ended.
 */
export async function resetTwoFactor(
  db: Db,
  userId: number,
  onReset?: (tx: Prisma.TransactionClient, done: { had: boolean; sessions: number }) => Promise<unknown>,
) {
  return db.$transaction(async (tx) => {
    const { count } = await tx.twoFactorSecret.deleteMany({ where: { userId } });
    await tx.recoveryCode.deleteMany({ where: { userId } });
    const sessions = await endSessions(tx, userId);
    await onReset?.(tx, { had: count > 0, sessions });
    return count > 0;
  });
}
