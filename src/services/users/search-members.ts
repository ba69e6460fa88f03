// Finding a member to transfer to (reference §3.6): by ABF number, or by the start of a first or last name.
// Only active members, never the searcher, at most 10 — enough to choose from, too few to list everyone.
import { Prisma } from "../../generated/prisma/client";
import type { Db } from "../../db/client";
import { escapeLike } from "../../lib/like";

export const SEARCH_LIMIT = 10;

export async function searchMembers(db: Db, query: string, excludeUserId: number) {
  // 60 characters, not UTF-16 units: a cut through a surrogate pair left half a character, which PostgreSQL
  // refuses as text (a 500 the input fuzz test found); a lone surrogate typed in becomes U+FFFD the same way.
  const q = [...query.trim()]
    .slice(0, 60)
    .join("")
    .replace(/[\uD800-\uDFFF]/gu, "\uFFFD");
  if (q.length < 2) return [];
  const select = { id: true, firstName: true, lastName: true, systemNumber: true } as const;
  if (/^\d{1,9}$/.test(q)) {
    return db.user.findMany({
      where: { systemNumber: Number(q), isActive: true, id: { not: excludeUserId } },
      select,
      take: SEARCH_LIMIT,
    });
  }
  // By the start of a first or last name (or of both, given two words), without case or accents: fold_name
  // (migration 20261202090000) turns "Żółć" and "zolc" alike into "zolc".
  const words = q.split(/\s+/);
  const [a, b] = [words[0]!, words.slice(1).join(" ")];
  const prefix = (v: string) => `${escapeLike(v)}%`;
  const names = b
    ? Prisma.sql`(fold_name(first_name) LIKE fold_name(${prefix(a)}) AND fold_name(last_name) LIKE fold_name(${prefix(b)}))
              OR (fold_name(last_name) LIKE fold_name(${prefix(a)}) AND fold_name(first_name) LIKE fold_name(${prefix(b)}))`
    : Prisma.sql`fold_name(first_name) LIKE fold_name(${prefix(a)}) OR fold_name(last_name) LIKE fold_name(${prefix(a)})`;
  return db.$queryRaw<{ id: number; firstName: string; lastName: string; systemNumber: number }[]>`
    SELECT id, first_name AS "firstName", last_name AS "lastName", system_number AS "systemNumber"
      FROM users
     WHERE is_active AND id <> ${excludeUserId} AND (${names})
     ORDER BY first_name, last_name
     LIMIT ${SEARCH_LIMIT}`;
}

/** People the member has recently sent credits to or received them from, sorted by first name (§3.6). */
export async function recentCounterparties(db: Db, userId: number) {
  return db.$queryRaw<{ id: number; firstName: string; lastName: string; systemNumber: number }[]>`
    SELECT DISTINCT u.id, u.first_name AS "firstName", u.last_name AS "lastName", u.system_number AS "systemNumber"
      FROM (SELECT e.counterparty_account_id FROM entries e
             WHERE e.account_id = (SELECT id FROM accounts WHERE user_id = ${userId})
             ORDER BY e.entry_no DESC LIMIT 200) recent
      JOIN accounts a ON a.id = recent.counterparty_account_id
      JOIN users u ON u.id = a.user_id
     WHERE u.is_active AND u.id <> ${userId}
     ORDER BY "firstName", "lastName"
     LIMIT 20`;
}
