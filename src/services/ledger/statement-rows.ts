// Statement lines of an account, newest first, with what a statement shows: the posting's description and
// reference, and the counterparty's name. One index range scan on (account_id, entry_no) plus key look-ups.
import type { Db } from "../../db/client";

export interface StatementRow {
  entryNo: number;
  createdAt: Date;
  amountCents: bigint;
  balanceAfterCents: bigint;
  type: string;
  description: string;
  referenceNo: string;
  postingId: bigint;
  cardPaymentId: number | null;
  counterpartyAccountId: number | null;
  counterparty: string | null;
}

const SYSTEM_NAMES: Record<string, string> = {
  CARD_FUNDS: "Card payment",
  FEE_INCOME: "Federation fees",
  SETTLEMENTS_PAYABLE: "Bank settlement",
  ADJUSTMENTS: "Federation adjustment",
};

export async function statementRows(
  db: Db,
  accountId: number,
  opts: { limit: number; beforeEntryNo?: number },
): Promise<StatementRow[]> {
  const before = opts.beforeEntryNo ?? 2 ** 31 - 1;
  const rows = await db.$queryRaw<
    (Omit<StatementRow, "counterparty"> & { cp_user: string | null; cp_org: string | null; cp_sys: string | null })[]
  >`
    SELECT e.entry_no AS "entryNo", e.created_at AS "createdAt", e.amount_cents AS "amountCents",
           e.balance_after_cents AS "balanceAfterCents", e.type, p.description, p.reference_no AS "referenceNo",
           p.id AS "postingId", p.card_payment_id AS "cardPaymentId",
           e.counterparty_account_id AS "counterpartyAccountId",
           u.first_name || ' ' || u.last_name AS cp_user, o.name AS cp_org, ca.system_code AS cp_sys
      FROM entries e
      JOIN postings p ON p.id = e.posting_id
      LEFT JOIN accounts ca ON ca.id = e.counterparty_account_id
      LEFT JOIN users u ON u.id = ca.user_id
      LEFT JOIN organisations o ON o.id = ca.organisation_id
     WHERE e.account_id = ${accountId} AND e.entry_no < ${before}
     ORDER BY e.entry_no DESC
     LIMIT ${opts.limit}`;
  return rows.map(({ cp_user, cp_org, cp_sys, ...r }) => ({
    ...r,
    counterparty: cp_user ?? cp_org ?? (cp_sys ? (SYSTEM_NAMES[cp_sys] ?? cp_sys) : null),
  }));
}
