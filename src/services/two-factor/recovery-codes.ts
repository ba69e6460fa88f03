// Recovery codes: ten per enrolment, shown once, stored only as keyed hashes, each good for one sign-in.
// 10 characters from a 31-character alphabet without look-alikes (no 0/o, 1/l/i): ~49 bits each, as xxxxx-xxxxx.
import { randomInt } from "node:crypto";
import type { Prisma } from "../../generated/prisma/client";
import type { SecretBox } from "./secret-box";

export const RECOVERY_CODE_COUNT = 10;
const ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789";

/** As typed: case, spaces and dashes do not matter. */
export function normaliseRecoveryCode(typed: string): string {
  return typed.toLowerCase().replace(/[\s-]/g, "");
}

export function looksLikeRecoveryCode(typed: string): boolean {
  return new RegExp(`^[${ALPHABET}]{10}$`).test(normaliseRecoveryCode(typed));
}

function newCode(): string {
  let s = "";
  for (let i = 0; i < 10; i++) s += ALPHABET[randomInt(ALPHABET.length)];
  return `${s.slice(0, 5)}-${s.slice(5)}`;
}

/** Replaces the user's recovery codes with a fresh set; answers the codes as shown to the user (once). */
export async function replaceRecoveryCodes(tx: Prisma.TransactionClient, box: SecretBox, userId: number) {
  const codes = Array.from({ length: RECOVERY_CODE_COUNT }, newCode);
  await tx.recoveryCode.deleteMany({ where: { userId } });
  await tx.recoveryCode.createMany({
    data: codes.map((c) => ({ userId, codeHash: box.hashRecoveryCode(userId, normaliseRecoveryCode(c)) })),
  });
  return codes;
}

/** Spends one unused code; false when it is not one of the user's or was used already (one statement: no race). */
export async function spendRecoveryCode(tx: Prisma.TransactionClient, box: SecretBox, userId: number, typed: string) {
  const codeHash = box.hashRecoveryCode(userId, normaliseRecoveryCode(typed));
  const { count } = await tx.recoveryCode.updateMany({
    where: { userId, codeHash, usedAt: null },
    data: { usedAt: new Date() },
  });
  return count === 1;
}

export function recoveryCodesLeft(tx: Prisma.TransactionClient, userId: number) {
  return tx.recoveryCode.count({ where: { userId, usedAt: null } });
}
