import { z } from "zod";
import { hashPassword } from "../../auth/password";
import type { Db } from "../../db/client";
import { conflict } from "../../lib/errors";
import { parseInput } from "../../lib/validation";
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

export async function createUser(db: Db, input: CreateUserInput) {
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
  return db.user.create({ data: { ...fields, passwordHash: await hashPassword(password) } });
}
