// Statement lines of an account, newest first, with what a statement shows: the posting's description and
// reference, and the counterparty's name. One index range scan on (account_id, entry_no) plus key look-ups.

import type pg from "pg";
import type { Db } from "../../db/client";
import { namedQuery } from "../../db/named-query";

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
  /** The card that paid, on top-up lines. */
  card: {
    brand: string | null;
    last4: string | null;
    expMonth: number | null;
    expYear: number | null;
    receiptUrl: string | null;
    /** SUCCEEDED, PARTIAL_REFUND or REFUNDED. */
    status: string;
  } | null;
}

export const SYSTEM_NAMES: Record<string, string> = {
  CARD_FUNDS: "Card payment",
  FEE_INCOME: "Federation fees",
  SETTLEMENTS_PAYABLE: "Bank settlement",
  ADJUSTMENTS: "Federation adjustment",
  FEDERATION_BANK: "Federation bank account",
};

export interface StatementFilter {
  /** First and last calendar day (YYYY-MM-DD) in `timeZone`, both included. */
  from?: string | null;
  to?: string | null;
  type?: string | null;
  timeZone?: string;
}

interface RawRow {
  entry_no: number;
  created_at: Date;
  amount_cents: string;
  balance_after_cents: string;
  type: string;
  description: string;
  reference_no: string;
  posting_id: string;
  card_payment_id: number | null;
  counterparty_account_id: number | null;
  cp_user: string | null;
  cp_org: string | null;
  cp_sys: string | null;
  card_brand: string | null;
  card_last4: string | null;
  card_exp_month: number | null;
  card_exp_year: number | null;
  receipt_url: string | null;
  card_status: string | null;
}

/** A statement line's posting, counterparty and card (shared with the CSV export's query). */
export const STATEMENT_FROM = `
      FROM entries e
      JOIN postings p ON p.id = e.posting_id
      LEFT JOIN accounts ca ON ca.id = e.counterparty_account_id
      LEFT JOIN users u ON u.id = ca.user_id
      LEFT JOIN organisations o ON o.id = ca.organisation_id
      LEFT JOIN card_payments c ON c.id = p.card_payment_id`;

/**
 * The statement query for the account `account` (SQL text: a parameter or a column of an outer query), its
 * parameters appended to `values`.
 */
function statementRowsSql(
  account: string,
  opts: { limit: number; beforeEntryNo?: number } & StatementFilter,
  values: unknown[],
) {
  // The limit is written into the text, not passed: with a parameter there PostgreSQL's generic plan assumes a
  // tenth of the account's lines and looks far dearer, so a named statement would be planned again every time
  // (src/db/named-query.ts). It comes from code, never from a request; checked all the same.
  if (!Number.isSafeInteger(opts.limit) || opts.limit < 1) throw new Error(`bad statement limit ${opts.limit}`);
  // "before" is read through an InitPlan, (SELECT $n): seen as a constant, page 1's sentinel (the largest entry
  // number) made the custom plan look far cheaper than the generic one and PostgreSQL planned page 1 on every
  // view (tests/integration/page-query-plans.test.ts). The index is used as before.
  values.push(opts.beforeEntryNo ?? 2 ** 31 - 1);
  const before = values.length;
  const tz = opts.timeZone ?? "Australia/Sydney";
  const where: string[] = [];
  if (opts.from) {
    values.push(opts.from, tz);
    where.push(`AND e.created_at >= ($${values.length - 1}::date::timestamp AT TIME ZONE $${values.length}::text)`);
  }
  if (opts.to) {
    values.push(opts.to, tz);
    where.push(
      `AND e.created_at < (($${values.length - 1}::date + 1)::timestamp AT TIME ZONE $${values.length}::text)`,
    );
  }
  if (opts.type) {
    values.push(opts.type);
    where.push(`AND e.type = $${values.length}::text`);
  }
  return `
    SELECT e.entry_no, e.created_at, e.amount_cents::text AS amount_cents,
           e.balance_after_cents::text AS balance_after_cents, e.type, p.description, p.reference_no,
           p.id::text AS posting_id, p.card_payment_id, e.counterparty_account_id,
           u.first_name || ' ' || u.last_name AS cp_user, o.name AS cp_org, ca.system_code AS cp_sys,
           c.card_brand, c.card_last4, c.card_exp_month, c.card_exp_year, c.receipt_url, c.status::text AS card_status
      ${STATEMENT_FROM}
     WHERE e.account_id = ${account} AND e.entry_no < (SELECT $${before}::int) ${where.join(" ")}
     ORDER BY e.entry_no DESC
     LIMIT ${opts.limit}`;
}

/** The one statement query, as text and parameters, for Prisma (pages) and node-postgres (exports) alike. */
function statementSql(accountId: number, opts: { limit: number; beforeEntryNo?: number } & StatementFilter) {
  const values: unknown[] = [accountId];
  return { text: statementRowsSql("$1::int", opts, values), values };
}

/**
 * A page's other figures and its statement lines in one query (one round trip) and one row: `header` is a query
 * of one row with an `account_id` column, its parameters already in `values`; the answer is that row plus a
 * `lines` column, the statement lines as a JSON array. Read it with `splitStatementRows`.
 *
 * One row rather than the header joined to each line: node-postgres ran a type parser for each of the header's
 * columns again on every line (the dashboard's IOUs and clubs are JSON, parsed five times), and one JSON.parse
 * of the lines costs less than ~20 parsers a line; in bench:http's profiles the driver's row parsing was a fifth
 * of the dashboard's CPU.
 */
export function withStatementRows(
  header: string,
  opts: { limit: number; beforeEntryNo?: number } & StatementFilter,
  values: unknown[],
) {
  // MATERIALIZED: the header's subqueries run once, whatever the planner makes of the lines' subquery.
  return `WITH h AS MATERIALIZED (${header})
          SELECT h.*, (SELECT coalesce(json_agg(r ORDER BY r.entry_no DESC), '[]')
                         FROM (${statementRowsSql("h.account_id", opts, values)}) r) AS lines
            FROM h`;
}

/** A statement line as json_agg writes it: the time as ISO 8601 text, the int8 columns as text (see the SELECT). */
type JsonRow = Omit<RawRow, "created_at"> & { created_at: string };

/** A `withStatementRows` row: the header's columns and the lines. */
export type WithLines<H> = H & { lines: JsonRow[] };

/** The header row (null when the header query found none) and the statement lines of a `withStatementRows` query. */
export function splitStatementRows<H>(rows: WithLines<H>[]): { header: H | null; lines: StatementRow[] } {
  const row = rows[0];
  if (!row) return { header: null, lines: [] };
  return { header: row, lines: row.lines.map((r) => toRow({ ...r, created_at: new Date(r.created_at) })) };
}

function toRow(r: RawRow): StatementRow {
  return {
    entryNo: r.entry_no,
    createdAt: r.created_at,
    amountCents: BigInt(r.amount_cents),
    balanceAfterCents: BigInt(r.balance_after_cents),
    type: r.type,
    description: r.description,
    referenceNo: r.reference_no,
    postingId: BigInt(r.posting_id),
    cardPaymentId: r.card_payment_id,
    counterpartyAccountId: r.counterparty_account_id,
    counterparty: r.cp_user ?? r.cp_org ?? (r.cp_sys ? (SYSTEM_NAMES[r.cp_sys] ?? r.cp_sys) : null),
    card: r.card_status
      ? {
          brand: r.card_brand,
          last4: r.card_last4,
          expMonth: r.card_exp_month,
          expYear: r.card_exp_year,
          receiptUrl: r.receipt_url,
          status: r.card_status,
        }
      : null,
  };
}

/** A page of statement lines, newest first. */
export async function statementRows(
  db: Db,
  accountId: number,
  opts: { limit: number; beforeEntryNo?: number } & StatementFilter,
): Promise<StatementRow[]> {
  const { text, values } = statementSql(accountId, opts);
  return (await db.$queryRawUnsafe<RawRow[]>(text, ...values)).map(toRow);
}

/** The same on a node-postgres pool: several times faster per row, for exports of any length. */
export async function statementRowsPg(
  pool: Pick<pg.Pool, "query">,
  accountId: number,
  opts: { limit: number; beforeEntryNo?: number } & StatementFilter,
): Promise<StatementRow[]> {
  const { text, values } = statementSql(accountId, opts);
  return (await namedQuery<RawRow>(pool, text, values)).rows.map(toRow);
}
