// The second step of signing in: a current authenticator code (its step not used before) or an unused recovery
// code. Both are spent by one conditional UPDATE, so two requests racing with the same code cannot both pass.
import type { Db } from "../../db/client";
import type { Prisma } from "../../generated/prisma/client";
import { looksLikeRecoveryCode, recoveryCodesLeft, spendRecoveryCode } from "./recovery-codes";
import type { SecretBox } from "./secret-box";
import { matchingStep } from "./totp";

/** Records `step` as used; false when that step or a later one was used already (a replay). */
export async function acceptCode(tx: Prisma.TransactionClient, userId: number, step: number): Promise<boolean> {
  const n = await tx.$executeRaw`
    UPDATE two_factor_secrets SET last_used_step = ${step}
     WHERE user_id = ${userId} AND (last_used_step IS NULL OR last_used_step < ${step})`;
  return n === 1;
}

/** Spends `typed` when it is a current code (±1 step) of the stored secret, of a step not used before. */
export async function spendTotpCode(
  tx: Prisma.TransactionClient,
  box: SecretBox,
  userId: number,
  secretEncrypted: string,
  typed: string,
): Promise<boolean> {
  const step = matchingStep(box.decrypt(userId, secretEncrypted), typed.replace(/\s/g, ""), Date.now());
  return step !== null && (await acceptCode(tx, userId, step));
}

export type SecondFactorResult =
  | { ok: true; via: "code" }
  | { ok: true; via: "recovery"; recoveryLeft: number }
  | { ok: false };

export async function verifySecondFactor(
  db: Db,
  box: SecretBox,
  userId: number,
  typed: string,
): Promise<SecondFactorResult> {
  const row = await db.twoFactorSecret.findUnique({ where: { userId } });
  if (!row?.enabledAt) return { ok: false };
  const code = typed.replace(/\s/g, "");
  if (/^\d{6}$/.test(code)) {
    return (await spendTotpCode(db, box, userId, row.secretEncrypted, code))
      ? { ok: true, via: "code" }
      : { ok: false };
  }
  if (looksLikeRecoveryCode(typed) && (await spendRecoveryCode(db, box, userId, typed))) {
    return { ok: true, via: "recovery", recoveryLeft: await recoveryCodesLeft(db, userId) };
  }
  return { ok: false };
}
