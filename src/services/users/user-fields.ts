// Field rules for people, shared by the sign-up paths (CLI, demo data) and the password pages.
import { z } from "zod";
import { PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH } from "../../auth/password";

export const systemNumberField = z.coerce
  .number({ message: "ABF number must be a whole number." })
  .int("ABF number must be a whole number.")
  .positive("ABF number must be a positive whole number.")
  .max(2_000_000_000, "ABF number is too large.");

export const emailField = z
  .string({ message: "E-mail is required." })
  .trim()
  .toLowerCase()
  .max(254, "E-mail is too long.")
  .pipe(z.email({ message: "E-mail address is not valid." }));

const nameField = (label: string) =>
  z
    .string({ message: `${label} is required.` })
    .trim()
    .min(1, `${label} is required.`)
    .max(100, `${label} must be at most 100 characters.`);

export const firstNameField = nameField("First name");
export const lastNameField = nameField("Last name");

export const newPasswordField = z
  .string({ message: "Password is required." })
  .min(PASSWORD_MIN_LENGTH, `Password must be at least ${PASSWORD_MIN_LENGTH} characters.`)
  .max(PASSWORD_MAX_LENGTH, `Password must be at most ${PASSWORD_MAX_LENGTH} characters.`);
