import { z } from "zod";
import { hashPassword } from "../../auth/password";
import type { Db } from "../../db/client";
import { conflict } from "../../lib/errors";
import { parseInput } from "../../lib/validation";
import { type AuditActor, recordAudit } from "../audit/record";
import { emailField, firstNameField, lastNameField, newPasswordField, systemNumberField } from "./user-fields";

export const createUserInput = z.object({
  systemNumber: systemNumberField,
  firstName: firstNameField,
  lastName: lastNameField,
  email: emailField,
  password: newPasswordField,
  isActive: z.boolean().default(true),
});
export type CreateUserInput = z.input<typeof createUserInput>;

/** Creates a user; `audit`: who did (the operators' CLI), recorded in the same transaction (never the password). */
export async function createUser(db: Db, input: CreateUserInput, audit?: AuditActor) {
  const data = parseInput(createUserInput, input);
  const clash = await db.user.findFirst({
    where: { OR: [{ systemNumber: data.systemNumber }, { email: data.email }] },
    select: { systemNumber: true },
  });
  if (clash) {
    throw conflict(
      clash.systemNumber === data.systemNumber
        ? `ABF number ${data.systemNumber} is already registered.`
        : `E-mail ${data.email} is already registered.`,
    );
  }
  const { password, ...fields } = data;
  const passwordHash = await hashPassword(password);
  return db.$transaction(async (tx) => {
    const user = await tx.user.create({ data: { ...fields, passwordHash } });
    if (audit)
      await recordAudit(tx, { ...audit, action: "user.create", targetType: "user", targetId: user.id, after: fields });
    return user;
  });
}
