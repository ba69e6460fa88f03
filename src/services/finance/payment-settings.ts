// Versioned payment settings (reference §1.8, §2 rows 6–10): every save is a new version and the newest is in
// force, so history is never lost; per-club fee overrides replace the default fee for one club.
import { z } from "zod";
import type { Db } from "../../db/client";
import { badInput, notFound } from "../../lib/errors";
import { parseAmount, parsePercent } from "../../lib/money";
import { type AuditActor, recordAudit } from "../audit/record";

// Digits only: Number() would read "" as 0, "0x10" as 16 and "1e2" as 100.
const weeks = z
  .string({ message: "The refund window must be a whole number of weeks." })
  .trim()
  .regex(/^\d{1,3}$/, "The refund window must be a whole number of weeks.")
  .transform(Number)
  .refine((n) => n <= 520, "The refund window is at most 520 weeks.");

export interface SettingsForm {
  defaultOrgFee: string;
  stripeFixedFee: string;
  stripeFee: string;
  refundFee: string;
  refundWindowWeeks: string;
  /** The federation's bank details for settlement files (Direct Entry). */
  abaBankCode: string;
  abaUserName: string;
  abaUserId: string;
  abaRemitterName: string;
  federationBsb: string;
  federationAccount: string;
  /** Dollars: adjustments and admin refunds above this need a second finance editor. */
  approvalThreshold: string;
  /** Dollars: settlement confirmations whose gross total is above this need a second finance editor. */
  settlementApprovalThreshold: string;
}

export const SETTINGS_FIELDS: (keyof SettingsForm)[] = [
  "defaultOrgFee",
  "stripeFixedFee",
  "stripeFee",
  "refundFee",
  "refundWindowWeeks",
  "abaBankCode",
  "abaUserName",
  "abaUserId",
  "abaRemitterName",
  "federationBsb",
  "federationAccount",
  "approvalThreshold",
  "settlementApprovalThreshold",
];

/** What each field is called on the settings page, for messages that name it. */
export const SETTINGS_LABELS: Record<keyof SettingsForm, string> = {
  defaultOrgFee: "Default settlement fee",
  stripeFixedFee: "Stripe cost per transaction",
  stripeFee: "Stripe percentage",
  refundFee: "Refund fee",
  refundWindowWeeks: "Refund window (weeks)",
  abaBankCode: "Bank code",
  abaUserName: "Direct Entry user name",
  abaUserId: "Direct Entry user id",
  abaRemitterName: "Remitter name",
  federationBsb: "Federation BSB",
  federationAccount: "Federation account number",
  approvalThreshold: "Second approval above (adjustments, refunds)",
  settlementApprovalThreshold: "Second approval above (settlement total)",
};

/** Empty means "not set yet" (NULL): fees can be saved before the bank details are known. */
const optional = (v: string) => v.trim() || null;

function bankFields(f: SettingsForm) {
  const code = optional(f.abaBankCode)?.toUpperCase() ?? null;
  if (code !== null && !/^[A-Z]{3}$/.test(code)) throw badInput("The bank code is three letters, such as CBA or WBC.");
  const userId = optional(f.abaUserId);
  if (userId !== null && (!/^\d{6}$/.test(userId) || /^0+$/.test(userId))) {
    throw badInput("The APCA (Direct Entry) user id is six digits, the number your bank gave the federation.");
  }
  const bsbText = optional(f.federationBsb);
  if (bsbText !== null && (!/^\d{3}-?\d{3}$/.test(bsbText) || /^[0-]+$/.test(bsbText))) {
    throw badInput("The federation's BSB is six digits, written NNN-NNN (such as 062-000).");
  }
  const account = optional(f.federationAccount);
  if (account !== null && (!/^\d{1,9}$/.test(account) || /^0+$/.test(account))) {
    throw badInput("The federation's account number is one to nine digits.");
  }
  const userName = f.abaUserName.trim();
  const remitter = f.abaRemitterName.trim();
  if (!userName || userName.length > 26) throw badInput("The Direct Entry user name is 1 to 26 characters.");
  if (!remitter || remitter.length > 16) throw badInput("The remitter name is 1 to 16 characters.");
  return {
    abaBankCode: code,
    abaUserId: userId,
    federationBsb: bsbText?.replace("-", "") ?? null,
    federationAccount: account,
    abaUserName: userName,
    abaRemitterName: remitter,
  };
}

/** Parses the settings form (percentages like "2.5", dollars like "0.30"); throws the first problem. */
export function parseSettingsForm(f: SettingsForm) {
  const fixed = parseAmount(f.stripeFixedFee, "Stripe cost per transaction");
  if (fixed > 1_000n) throw badInput("Stripe cost per transaction is at most $10.00.");
  const w = weeks.safeParse(f.refundWindowWeeks);
  if (!w.success) throw badInput(w.error.issues[0]!.message);
  return {
    defaultOrgFeePpm: parsePercent(f.defaultOrgFee, "Default settlement fee"),
    stripeFixedFeeCents: Number(fixed),
    stripeFeePpm: parsePercent(f.stripeFee, "Stripe percentage"),
    refundFeePpm: parsePercent(f.refundFee, "Refund fee"),
    refundWindowWeeks: w.data,
    ...bankFields(f),
    approvalThresholdCents: parseAmount(f.approvalThreshold, SETTINGS_LABELS.approvalThreshold),
    settlementApprovalThresholdCents: parseAmount(
      f.settlementApprovalThreshold,
      SETTINGS_LABELS.settlementApprovalThreshold,
    ),
  };
}

/** Saves a new version; its audit row (the version before and after) is in the same transaction. */
export async function savePaymentSettings(db: Db, form: SettingsForm, audit: AuditActor & { actorId: number }) {
  const data = parseSettingsForm(form);
  return db.$transaction(async (tx) => {
    const before = await tx.paymentSettings.findFirst({ orderBy: { id: "desc" } });
    const saved = await tx.paymentSettings.create({ data: { ...data, modifiedByUserId: audit.actorId } });
    await recordAudit(tx, {
      ...audit,
      action: "settings.save",
      targetType: "payment_settings",
      targetId: saved.id,
      before: before && settingsValues(before),
      after: settingsValues(saved),
    });
    return saved;
  });
}

/** A version's values without its bookkeeping columns, for the audit trail. */
function settingsValues(v: Record<string, unknown>) {
  const { id: _id, createdAt: _c, modifiedByUserId: _m, ...values } = v;
  return values;
}

export async function paymentSettingsHistory(db: Db) {
  const rows = await db.paymentSettings.findMany({ orderBy: { id: "desc" } });
  const users = await db.user.findMany({
    where: { id: { in: rows.map((r) => r.modifiedByUserId).filter((u): u is number => u !== null) } },
    select: { id: true, firstName: true, lastName: true },
  });
  const name = new Map(users.map((u) => [u.id, `${u.firstName} ${u.lastName}`]));
  return rows.map((r, i) => ({
    ...r,
    active: i === 0,
    modifiedBy: r.modifiedByUserId ? (name.get(r.modifiedByUserId) ?? "") : "system",
  }));
}

export function listFeeOverrides(db: Db) {
  return db.organisationFeeOverride.findMany({
    include: { organisation: { select: { id: true, name: true, clubNumber: true } } },
    orderBy: { organisation: { name: "asc" } },
  });
}

export async function addFeeOverride(
  db: Db,
  req: { organisationId: number; fee: string; actorUserId: number },
  audit: AuditActor,
) {
  const org = Number.isSafeInteger(req.organisationId)
    ? await db.organisation.findUnique({ where: { id: req.organisationId }, select: { id: true, name: true } })
    : null;
  if (!org) throw badInput("Choose an organisation.");
  const feePpm = parsePercent(req.fee, "Settlement fee");
  const existing = await db.organisationFeeOverride.findUnique({ where: { organisationId: org.id } });
  if (existing) throw badInput(`${org.name} already has an override; delete it first.`);
  return db.$transaction(async (tx) => {
    const row = await tx.organisationFeeOverride.create({
      data: { organisationId: org.id, feePpm, createdByUserId: req.actorUserId },
    });
    await recordAudit(tx, { ...audit, ...overrideTarget(row), before: null, after: { feePpm } });
    return row;
  });
}

const overrideTarget = (row: { id: number; organisationId: number }) => ({
  action: "fee_override.add",
  targetType: "fee_override",
  targetId: row.id,
  orgId: row.organisationId,
});

export async function deleteFeeOverride(db: Db, id: number, audit: AuditActor) {
  await db.$transaction(async (tx) => {
    const rows = await tx.$queryRaw<{ id: number; organisationId: number; feePpm: number }[]>`
      DELETE FROM organisation_fee_overrides WHERE id = ${id}
      RETURNING id, organisation_id AS "organisationId", fee_ppm AS "feePpm"`;
    const row = rows[0];
    if (!row) throw notFound("That override does not exist (already deleted?).");
    await recordAudit(tx, {
      ...audit,
      ...overrideTarget(row),
      action: "fee_override.delete",
      before: { feePpm: row.feePpm },
      after: null,
    });
  });
}
