// A member's statement (reference §3.13, §7.1.1–2): newest first, a page at a time (keyset on the entry number,
// so page 1,000 costs what page 1 does), filtered by date range and type, with what the page shows on card rows:
// the card, its receipt, "Refunded", and whether the member may refund it to the card (§3.8).
import { type StatementRow, statementRowsPg } from "../ledger/statement-rows";
import type { TransactionType } from "../ledger/transaction-types";
import type { Payments } from "../payments/context";
import { activePaymentSettings } from "../payments/settings";

export const PAGE_SIZE = 30;
const WEEK_MS = 7 * 24 * 60 * 60 * 1000;

/** The statement's filters, parsed at the edge (src/web/statement-filters.ts). */
export interface StatementQuery {
  from?: string;
  to?: string;
  type?: TransactionType;
  before?: number;
}

export interface StatementLine extends StatementRow {
  /** The member may refund this card top-up to their card now (§3.8's statement rule). */
  refundable: boolean;
}

export async function memberStatementPage(p: Payments, userId: number, q: StatementQuery, pageSize = PAGE_SIZE) {
  const accountId = await p.accounts.forUser(userId);
  const [account, rows, settings] = await Promise.all([
    p.db.account.findUniqueOrThrow({ where: { id: accountId }, select: { balanceCents: true } }),
    statementRowsPg(p.pool, accountId, {
      limit: pageSize + 1,
      beforeEntryNo: q.before,
      from: q.from,
      to: q.to,
      type: q.type,
      timeZone: p.timeZone,
    }),
    activePaymentSettings(p.db),
  ]);
  const page = rows.slice(0, pageSize);
  const oldest = Date.now() - settings.refundWindowWeeks * WEEK_MS;
  const lines: StatementLine[] = page.map((r) => ({
    ...r,
    refundable:
      !!r.card?.receiptUrl &&
      r.amountCents > 0n &&
      r.card.status !== "REFUNDED" &&
      account.balanceCents - r.amountCents >= 0n &&
      r.createdAt.getTime() > oldest,
  }));
  return {
    balanceCents: account.balanceCents,
    lines,
    nextBefore: rows.length > pageSize ? page.at(-1)!.entryNo : null,
  };
}

/** Every line of the statement (newest first, filtered), in pages, for CSV and PDF: constant memory. */
export async function* allStatementRows(p: Payments, accountId: number, q: StatementQuery, pageSize = 2_000) {
  let before = q.before;
  for (;;) {
    const rows = await statementRowsPg(p.pool, accountId, {
      limit: pageSize,
      beforeEntryNo: before,
      from: q.from,
      to: q.to,
      type: q.type,
      timeZone: p.timeZone,
    });
    yield* rows;
    if (rows.length < pageSize) return;
    before = rows.at(-1)!.entryNo;
  }
}
