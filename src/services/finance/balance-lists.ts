// Members and clubs with a (non-zero) balance, for finance staff (reference §3.15): a page at a time on screen,
// everything as CSV (written by PostgreSQL).
import type { Db } from "../../db/client";
import type { CopyQuery } from "../../db/copy-csv";
import { amountCell, textCell } from "../exports/csv-sql";

export const LIST_PAGE = 30;

export async function membersWithBalance(db: Db, page: number) {
  const [rows, total] = await Promise.all([
    db.$queryRaw<{ id: number; systemNumber: number; firstName: string; lastName: string; balanceCents: bigint }[]>`
      SELECT u.id, u.system_number AS "systemNumber", u.first_name AS "firstName", u.last_name AS "lastName",
             a.balance_cents AS "balanceCents"
        FROM accounts a JOIN users u ON u.id = a.user_id
       WHERE a.kind = 'MEMBER' AND a.balance_cents <> 0
       ORDER BY a.balance_cents DESC, u.id
       LIMIT ${LIST_PAGE} OFFSET ${(page - 1) * LIST_PAGE}`,
    db.account.count({ where: { kind: "MEMBER", balanceCents: { not: 0n } } }),
  ]);
  return { rows, total, pages: Math.max(1, Math.ceil(total / LIST_PAGE)) };
}

export async function orgsWithBalance(db: Db, page: number) {
  const [rows, total] = await Promise.all([
    db.$queryRaw<{ id: number; clubNumber: string; name: string; balanceCents: bigint; minBalanceCents: bigint }[]>`
      SELECT o.id, o.club_number AS "clubNumber", o.name, a.balance_cents AS "balanceCents",
             o.min_balance_after_settlement_cents AS "minBalanceCents"
        FROM accounts a JOIN organisations o ON o.id = a.organisation_id
       WHERE a.kind = 'ORGANISATION' AND a.balance_cents <> 0
       ORDER BY a.balance_cents DESC, o.id
       LIMIT ${LIST_PAGE} OFFSET ${(page - 1) * LIST_PAGE}`,
    db.account.count({ where: { kind: "ORGANISATION", balanceCents: { not: 0n } } }),
  ]);
  return { rows, total, pages: Math.max(1, Math.ceil(total / LIST_PAGE)) };
}

/** Every member with a balance as CSV, in the page's order (PostgreSQL writes it: src/db/copy-csv.ts). */
export const membersWithBalanceCsv = (): CopyQuery => ({
  sql: `
    SELECT u.system_number AS "Member Number", ${textCell("u.first_name")} AS "Member First Name",
           ${textCell("u.last_name")} AS "Member Last Name", ${amountCell("a.balance_cents")} AS "Balance"
      FROM accounts a JOIN users u ON u.id = a.user_id
     WHERE a.kind = 'MEMBER' AND a.balance_cents <> 0
     ORDER BY a.balance_cents DESC, u.id`,
  settings: {},
});

/** Every club with a balance as CSV, in the page's order. */
export const orgsWithBalanceCsv = (): CopyQuery => ({
  sql: `
    SELECT ${textCell("o.club_number")} AS "Club Number", ${textCell("o.name")} AS "Club Name",
           ${amountCell("a.balance_cents")} AS "Balance"
      FROM accounts a JOIN organisations o ON o.id = a.organisation_id
     WHERE a.kind = 'ORGANISATION' AND a.balance_cents <> 0
     ORDER BY a.balance_cents DESC, o.id`,
  settings: {},
});
