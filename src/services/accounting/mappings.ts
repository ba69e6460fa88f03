// The chart-of-accounts mapping (docs/accounting-export.md): each ledger account — all members' accounts together,
// all organisations' together, and each system account — optionally narrowed to one transaction type, maps to
// the federation's account code and tax rate. The ledger accounts are read from the database, so a system account
// added later (payouts, disputes) shows up on the mapping page unmapped, and the export refuses until it is
// mapped: no code change is needed to map it.
import { badInput } from "../../lib/errors";
import { type AuditActor, recordAudit } from "../audit/record";
import { isTransactionType, TRANSACTION_TYPES } from "../ledger/transaction-types";
import type { Payments } from "../payments/context";

export const ANY_TYPE = "*";

export interface Mapping {
  id: number;
  ledgerAccount: string;
  transactionType: string;
  accountCode: string;
  taxRateName: string;
  /** Tax included in the amounts, ppm (100000 = GST 10 %). */
  taxPpm: number;
}

/** The ledger account key of an account: MEMBER, ORGANISATION or SYSTEM:<code> (the SQL twin is below). */
export const LEDGER_ACCOUNT_SQL = `CASE a.kind WHEN 'SYSTEM' THEN 'SYSTEM:' || a.system_code ELSE a.kind::text END`;

const LABELS: Record<string, string> = {
  MEMBER: "Members' balances",
  ORGANISATION: "Organisations' balances",
};
/** A ledger account as people read it: "Members' balances", "System account FEE_INCOME". */
export const ledgerAccountLabel = (key: string) => LABELS[key] ?? `System account ${key.replace(/^SYSTEM:/, "")}`;

/** Every ledger account there is (members, organisations, each system account), in a stable order. */
export async function ledgerAccounts(p: Payments): Promise<string[]> {
  const { rows } = await p.pool.query<{ key: string }>(
    `SELECT DISTINCT ${LEDGER_ACCOUNT_SQL} AS key FROM accounts a ORDER BY 1`,
  );
  return rows.map((r) => r.key);
}

const MAPPING_FIELDS = {
  id: true,
  ledgerAccount: true,
  transactionType: true,
  accountCode: true,
  taxRateName: true,
  taxPpm: true,
} as const;

export async function mappings(p: Payments): Promise<Mapping[]> {
  return p.db.accountingMapping.findMany({
    orderBy: [{ ledgerAccount: "asc" }, { transactionType: "asc" }],
    select: MAPPING_FIELDS,
  });
}

/** Finds the mapping of a ledger account for one transaction type: the type's own, else the account's "any". */
export function mapper(list: Mapping[]) {
  const byKey = new Map(list.map((m) => [`${m.ledgerAccount}|${m.transactionType}`, m]));
  return (ledgerAccount: string, type: string) =>
    byKey.get(`${ledgerAccount}|${type}`) ?? byKey.get(`${ledgerAccount}|${ANY_TYPE}`);
}

export interface MappingInput {
  ledgerAccount: string;
  transactionType: string;
  accountCode: string;
  taxRateName: string;
  taxPpm: number;
}

/**
 * Adds or changes one mapping; the ledger account must exist and the type be one of the ledger's. Its audit row
 * (the mapping before and after) is written in the same transaction.
 */
export async function saveMapping(
  p: Payments,
  m: MappingInput,
  actor: AuditActor & { actorId: number },
): Promise<Mapping> {
  if (!(await ledgerAccounts(p)).includes(m.ledgerAccount)) throw badInput("That ledger account does not exist.");
  if (m.transactionType !== ANY_TYPE && !isTransactionType(m.transactionType)) {
    throw badInput(`The transaction type must be one of: any, ${TRANSACTION_TYPES.join(", ")}.`);
  }
  if (!/^[A-Za-z0-9.-]{1,20}$/.test(m.accountCode)) {
    throw badInput("The account code is 1–20 letters, digits, dots or dashes, as in the chart of accounts.");
  }
  const name = m.taxRateName.trim();
  if (name === "" || name.length > 60) throw badInput("The tax rate name is 1–60 characters, as Xero spells it.");
  const data = {
    accountCode: m.accountCode,
    taxRateName: name,
    taxPpm: m.taxPpm,
    updatedByUserId: actor.actorId,
    updatedAt: new Date(),
  };
  const where = {
    ledgerAccount_transactionType: { ledgerAccount: m.ledgerAccount, transactionType: m.transactionType },
  };
  const values = { select: MAPPING_FIELDS };
  return p.db.$transaction(async (tx) => {
    const before = await tx.accountingMapping.findUnique({ where, ...values });
    const after = await tx.accountingMapping.upsert({
      where,
      create: { ledgerAccount: m.ledgerAccount, transactionType: m.transactionType, ...data },
      update: data,
      ...values,
    });
    await recordAudit(tx, {
      ...actor,
      action: "accounting.mapping_save",
      targetType: "accounting_mapping",
      targetId: after.id,
      before,
      after,
    });
    return after;
  });
}
