// Input rules shared by the payment use cases.
import { z } from "zod";
import { controlCharProblem } from "../../lib/validation";

/** A statement description: required, trimmed, at most `max` characters (80 is what statements show). */
export const descriptionField = (max = 80, label = "A description") =>
  z
    .string({ message: `${label} is required.` })
    .trim()
    .min(1, `${label} is required.`)
    .max(max, `${label.replace(/^A /, "The ")} must be at most ${max} characters.`)
    // The web edge also keeps descriptions to one line; here (the payments API, the CLI) a NUL or other control
    // character is refused, line breaks are not.
    .refine((t) => !controlCharProblem(t, true), `${label.replace(/^A /, "The ")} contains a control character.`);

/** Who is being paid: a member chosen on the page. */
export const recipientField = z
  .number({ message: "Choose who to transfer to." })
  .int()
  .positive("Choose who to transfer to.");

export const idempotencyKeyField = z.string().min(1).max(150);
