// A member's statement (reference §3.13, §7.1.1–2): newest first, a page at a time (keyset on the entry number,
// so page 1,000 costs what page 1 does), filtered by date range and type, with what the page shows on card rows:
// the card, its receipt, "Refunded", and whether the member may refund it to the card (§3.8).
import type pg from "pg";
import { notFound } from "../../lib/errors";
import {
  type StatementRow,
  splitStatementRows,
  type WithLines,
  statementRowsPg,
  withStatementRows,
} from "../ledger/statement-rows";
import type { TransactionType } from "../ledger/transaction-types";
import type { Payments } from "../payments/context";
import { namedQuery } from "../../db/named-query";

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

// The page's figures beside its lines, in the same query: the balance (refunds may not take it below zero), the
// refund window in force (the newest payment settings) and the member's auto top-up.
const HEADER = `
  SELECT a.id AS account_id, a.balance_cents::text AS balance_cents,
         (SELECT s.refund_window_weeks FROM payment_settings s ORDER BY s.id DESC LIMIT 1) AS refund_window_weeks,
         u.auto_top_up_status::text AS auto_status, u.auto_top_up_amount_cents::text AS auto_amount
    FROM accounts a JOIN users u ON u.id = a.user_id
   WHERE a.id = $1`;

interface Header {
  account_id: number;
  balance_cents: string;
  refund_window_weeks: number | null;
  auto_status: AutoTopUp["autoTopUpStatus"];
  auto_amount: string | null;
}

export interface AutoTopUp {
  autoTopUpStatus: "OFF" | "PENDING" | "ON" | "FAILED";
  autoTopUpAmountCents: bigint | null;
}

/** A page of the member's statement, its balance and auto top-up: one query on `p.pool` (one round trip). */
export async function memberStatementPage(p: Payments, userId: number, q: StatementQuery, pageSize = PAGE_SIZE) {
  const accountId = await p.accounts.forUser(userId);
  const values: unknown[] = [accountId];
  const text = withStatementRows(
    HEADER,
    { limit: pageSize + 1, beforeEntryNo: q.before, from: q.from, to: q.to, type: q.type, timeZone: p.timeZone },
    values,
  );
  const { header: h, lines: rows } = splitStatementRows(
    (await namedQuery<WithLines<Header>>(p.pool, text, values)).rows,
  );
  if (!h) throw notFound("That member does not exist.");
  if (h.refund_window_weeks === null) throw new Error("No payment settings saved"); // the migration saves the first
  const balanceCents = BigInt(h.balance_cents);
  const page = rows.slice(0, pageSize);
  const oldest = Date.now() - h.refund_window_weeks * WEEK_MS;
  const lines: StatementLine[] = page.map((r) => ({
    ...r,
    refundable:
      !!r.card?.receiptUrl &&
      r.amountCents > 0n &&
      r.card.status !== "REFUNDED" &&
      balanceCents - r.amountCents >= 0n &&
      r.createdAt.getTime() > oldest,
  }));
  return {
    balanceCents,
    lines,
    nextBefore: rows.length > pageSize ? page.at(-1)!.entryNo : null,
    auto: autoTopUpFrom(h.auto_status, h.auto_amount),
  };
}

const autoTopUpFrom = (status: AutoTopUp["autoTopUpStatus"], amount: string | null): AutoTopUp => ({
  autoTopUpStatus: status,
  autoTopUpAmountCents: amount === null ? null : BigInt(amount),
});

/** The member's auto top-up as the primary database has it (a read replica may lag a change just made). */
export async function autoTopUpOf(pool: Pick<pg.Pool, "query">, userId: number): Promise<AutoTopUp> {
  const { rows } = await pool.query<{ auto_status: AutoTopUp["autoTopUpStatus"]; auto_amount: string | null }>(
    `SELECT auto_top_up_status::text AS auto_status, auto_top_up_amount_cents::text AS auto_amount
       FROM users WHERE id = $1`,
    [userId],
  );
  if (!rows[0]) throw notFound("That member does not exist.");
  return autoTopUpFrom(rows[0].auto_status, rows[0].auto_amount);
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
