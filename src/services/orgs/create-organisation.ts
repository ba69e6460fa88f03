import { z } from "zod";
import type { Db } from "../../db/client";
import { conflict } from "../../lib/errors";
import { parseInput } from "../../lib/validation";
import { type AuditActor, recordAudit } from "../audit/record";
import { ACCOUNT_NAME_MAX, parseAccountName, parseAccountNumber, parseBsb, parseMinBalance } from "./bank-details";

const optionalText = (max: number, label: string) =>
  z
    .string()
    .trim()
    .max(max, `${label} must be at most ${max} characters.`)
    .transform((v) => (v === "" ? null : v))
    .nullish();

export const createOrganisationInput = z.object({
  clubNumber: z
    .string({ message: "Club number is required." })
    .trim()
    .regex(/^[A-Za-z0-9-]{1,20}$/, "Club number must be 1 to 20 letters, digits or dashes."),
  name: z
    .string({ message: "Name is required." })
    .trim()
    .min(1, "Name is required.")
    .max(150, "Name must be at most 150 characters."),
  type: z
    .enum(["NATIONAL", "STATE", "CLUB", "OTHER"], { message: "Type must be NATIONAL, STATE, CLUB or OTHER." })
    .default("CLUB"),
  addressLine1: optionalText(150, "Address"),
  addressLine2: optionalText(150, "Address"),
  suburb: optionalText(80, "Suburb"),
  state: optionalText(20, "State"),
  postcode: optionalText(10, "Postcode"),
  // Banks print BSBs as 062-000; we keep the six digits.
  bankBsb: z
    .string()
    .trim()
    .transform((v) => v.replace(/[\s-]/g, ""))
    .transform((v) => (v === "" ? null : v))
    .nullish(),
  bankAccount: z
    .string()
    .trim()
    .transform((v) => v.replace(/[\s-]/g, ""))
    .transform((v) => (v === "" ? null : v))
    .nullish(),
  bankAccountName: optionalText(ACCOUNT_NAME_MAX, "Account name"),
  minBalanceAfterSettlementCents: z.bigint().nonnegative("Minimum balance cannot be negative.").default(0n),
});
export type CreateOrganisationInput = z.input<typeof createOrganisationInput>;

/** Creates an organisation; `audit`: who did (the operators' CLI), recorded in the same transaction. */
export async function createOrganisation(db: Db, input: CreateOrganisationInput, audit?: AuditActor) {
  const parsed = parseInput(createOrganisationInput, input);
  // The same rules as changing them later (bank-details.ts), so a club cannot be created with details the bank
  // file would refuse; spaces and dashes people type in numbers are dropped first.
  const data = {
    ...parsed,
    bankBsb: parsed.bankBsb == null ? parsed.bankBsb : parseBsb(parsed.bankBsb),
    bankAccount: parsed.bankAccount == null ? parsed.bankAccount : parseAccountNumber(parsed.bankAccount),
    bankAccountName: parsed.bankAccountName == null ? parsed.bankAccountName : parseAccountName(parsed.bankAccountName),
    minBalanceAfterSettlementCents: parseMinBalance(parsed.minBalanceAfterSettlementCents),
  };
  const existing = await db.organisation.findUnique({ where: { clubNumber: data.clubNumber } });
  if (existing) throw conflict(`Club number ${data.clubNumber} is already used by ${existing.name}.`);
  return db.$transaction(async (tx) => {
    const org = await tx.organisation.create({ data });
    if (audit) {
      await recordAudit(tx, {
        ...audit,
        action: "organisation.create",
        targetType: "organisation",
        targetId: org.id,
        orgId: org.id,
        after: data,
      });
    }
    return org;
  });
}
