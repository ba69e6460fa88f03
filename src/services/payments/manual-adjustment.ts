// Finance staff adjust a member's or an organisation's balance (reference §3.10, type "Manual Adjustment").
// The other side is the federation's adjustments account; the administrator is recorded on the posting, and
// it is the one kind of posting allowed to take a balance below zero. Nobody adjusts their own account.
import { z } from "zod";
import { badInput, conflict, forbidden } from "../../lib/errors";
import { formatMoney, percentOf } from "../../lib/money";
import { parseInput } from "../../lib/validation";
import { type AuditContext, type AuditEvent, auditRows } from "../audit/record";
import { orgFeePpm } from "../finance/fees";
import type { Booked, EntryInput } from "../ledger/posting";
import type { Payments } from "./context";
import { descriptionField, idempotencyKeyField } from "./fields";

const MAX_ADJUSTMENT_CENTS = 100_000_000n; // $1,000,000: a typo guard, not a business rule

const common = {
  amountCents: z
    .bigint()
    .refine((v) => v !== 0n, "The amount cannot be zero.")
    .refine((v) => v <= MAX_ADJUSTMENT_CENTS && v >= -MAX_ADJUSTMENT_CENTS, "The amount is too large."),
  description: descriptionField(200, "A reason"),
  actorUserId: z.number().int().positive(),
  idempotencyKey: idempotencyKeyField,
};

const memberInput = z.object({ userId: z.number().int().positive(), ...common });
const orgInput = z.object({ organisationId: z.number().int().positive(), ...common });

export type AdjustMemberInput = z.input<typeof memberInput>;
export type AdjustOrganisationInput = z.input<typeof orgInput>;

/** `audit`: the staff member's request, so the adjustment's audit row is written in its posting's transaction. */
export async function adjustMemberBalance(p: Payments, raw: AdjustMemberInput, audit?: AuditContext) {
  const req = checkMemberAdjustment(raw);
  return adjust(p, { userId: req.userId }, req, auditRows(audit, adjustmentAudit("member", req.userId, null, req)));
}

/** The rules a member adjustment must pass, also asked before one is sent for approval. */
export function checkMemberAdjustment(raw: AdjustMemberInput) {
  const req = parseInput(memberInput, raw);
  if (req.userId === req.actorUserId) throw forbidden("You cannot adjust your own balance.");
  return req;
}

export function checkOrganisationAdjustment(raw: AdjustOrganisationInput) {
  return parseInput(orgInput, raw);
}

export async function adjustOrganisationBalance(p: Payments, raw: AdjustOrganisationInput, audit?: AuditContext) {
  const req = checkOrganisationAdjustment(raw);
  const id = req.organisationId;
  return adjust(p, { organisationId: id }, req, auditRows(audit, adjustmentAudit("org", id, id, req)));
}

function adjustmentAudit(
  kind: "member" | "org",
  targetId: number,
  orgId: number | null,
  req: { amountCents: bigint; description: string },
) {
  return {
    action: `adjustment.${kind}`,
    targetType: kind === "member" ? "user" : "organisation",
    targetId,
    orgId,
    after: { amountCents: req.amountCents, description: req.description },
  };
}

async function adjust(
  p: Payments,
  account: { userId: number } | { organisationId: number },
  req: { amountCents: bigint; description: string; actorUserId: number; idempotencyKey: string },
  audit: AuditEvent[],
): Promise<Booked & { balanceAfterCents: bigint | null }> {
  const r = await p.ledger.post({
    idempotencyKey: req.idempotencyKey,
    type: "Manual Adjustment",
    description: req.description,
    actorUserId: req.actorUserId,
    allowOverdraft: true,
    audit,
    entries: [
      { ...account, amountCents: req.amountCents, counterparty: 1 },
      { system: "ADJUSTMENTS", amountCents: -req.amountCents, counterparty: 0 },
    ],
  });
  if (r.status === "POSTED") {
    p.logger.info(
      { postingId: String(r.postingId), account, amountCents: String(req.amountCents), actor: req.actorUserId },
      "manual adjustment",
    );
    return { ...r, balanceAfterCents: r.balances[0]?.balanceAfterCents ?? null };
  }
  if (r.status === "DUPLICATE") return { ...r, balanceAfterCents: null };
  if (r.status === "KEY_REUSED") throw conflict("That adjustment was already made with different details.");
  throw badInput(`The adjustment could not be booked: ${r.status === "INVALID" ? r.reason : r.status}.`);
}

/** The rules a manual settlement must pass, also asked before one is sent for approval. */
export function checkManualSettlement(raw: z.input<typeof settlementInput>) {
  return parseInput(settlementInput, raw);
}

const settlementInput = z.object({
  organisationId: z.number().int().positive(),
  amountCents: z
    .bigint()
    .refine((v) => v < 0n, "Settlement amount must be negative")
    .refine((v) => v >= -MAX_ADJUSTMENT_CENTS, "The amount is too large."),
  description: descriptionField(200, "A reason"),
  actorUserId: z.number().int().positive(),
  idempotencyKey: idempotencyKeyField,
});

/** What a manual settlement of `amountCents` (negative) pays: the club's fee kept, the rest to its bank. */
export async function settlementSplit(p: Payments, organisationId: number, amountCents: bigint) {
  const gross = -amountCents;
  const feePpm = await orgFeePpm(p.db, organisationId);
  const fee = percentOf(gross, feePpm);
  return { grossCents: gross, feeCents: fee, netCents: gross - fee, feePpm };
}

/**
 * A settlement recorded by hand (reference §3.10 type 2): the club pays out `−amount`; the federation keeps its
 * fee (fee income) and owes the rest to the club's bank (settlements payable). It may not overdraw the club.
 */
export async function settleOrganisationManually(
  p: Payments,
  raw: z.input<typeof settlementInput>,
  audit?: AuditContext,
) {
  const req = checkManualSettlement(raw);
  const split = await settlementSplit(p, req.organisationId, req.amountCents);
  const r = await p.ledger.post({
    idempotencyKey: req.idempotencyKey,
    type: "Settlement",
    description: req.description,
    actorUserId: req.actorUserId,
    audit: auditRows(audit, {
      action: "settlement.manual",
      targetType: "organisation",
      targetId: req.organisationId,
      orgId: req.organisationId,
      after: { ...split, amountCents: req.amountCents, description: req.description },
    }),
    entries: settlementEntries(req.organisationId, split),
  });
  if (r.status === "POSTED" || r.status === "DUPLICATE") return { ...split, postingId: r.postingId };
  if (r.status === "INSUFFICIENT_FUNDS") {
    throw badInput(`The club's balance is ${formatMoney(r.balanceCents)}: a settlement cannot take it below zero.`);
  }
  if (r.status === "KEY_REUSED") throw conflict("That settlement was already made with different details.");
  throw badInput(`The settlement could not be booked: ${r.reason}.`);
}

/** A settlement's entries: the club pays out gross; its bank is owed net; the federation earns the fee. */
export function settlementEntries(
  organisationId: number,
  s: { grossCents: bigint; netCents: bigint; feeCents: bigint },
): EntryInput[] {
  const entries: EntryInput[] = [{ organisationId, amountCents: -s.grossCents, counterparty: 1 }];
  if (s.netCents > 0n) entries.push({ system: "SETTLEMENTS_PAYABLE", amountCents: s.netCents, counterparty: 0 });
  if (s.feeCents > 0n) entries.push({ system: "FEE_INCOME", amountCents: s.feeCents, counterparty: 0 });
  return entries;
}
