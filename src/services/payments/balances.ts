// Balance look-ups other modules and pages use. Each is one indexed query.
import { Prisma } from "../../generated/prisma/client";
import { notFound } from "../../lib/errors";
import { isCalendarDate } from "../../lib/validation";
import { statementRows } from "../ledger/statement-rows";
import { TOP_UP_TYPES_SQL } from "../ledger/transaction-types";
import type { Payments } from "./context";

/** A member's current balance in cents (0 for a member who never had an entry). */
export async function getBalance(p: Payments, userId: number): Promise<bigint> {
  const a = await p.db.account.findUnique({ where: { userId }, select: { balanceCents: true } });
  if (!a) throw notFound("That member does not exist.");
  return a.balanceCents;
}

/** For the dashboard: balance and when the member last topped up (null if never). */
export async function getBalanceDetail(p: Payments, userId: number) {
  const accountId = await p.accounts.forUser(userId);
  const [balanceCents, last] = await Promise.all([
    getBalance(p, userId),
    // One index probe (account, type, entry_no) per top-up type, however long the statement.
    p.db.$queryRaw<{ at: Date | null }[]>`
      SELECT max(e.created_at) AS at
        FROM unnest(ARRAY[${Prisma.raw(TOP_UP_TYPES_SQL)}]) AS t(type)
        CROSS JOIN LATERAL (SELECT created_at FROM entries
                             WHERE account_id = ${accountId} AND type = t.type
                               AND type IN (${Prisma.raw(TOP_UP_TYPES_SQL)})
                             ORDER BY entry_no DESC LIMIT 1) e`,
  ]);
  return { balanceCents, lastTopUpAt: last[0]?.at ?? null };
}

export async function orgBalance(p: Payments, organisationId: number): Promise<bigint> {
  const a = await p.db.account.findUnique({ where: { organisationId }, select: { balanceCents: true } });
  if (!a) throw notFound("That organisation does not exist.");
  return a.balanceCents;
}

const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;

/**
 * An organisation's balance at the start or end of a calendar day in the configured time zone
 * (Australia/Sydney by default): the running balance of its last entry before that instant.
 */
export async function orgBalanceAt(
  p: Payments,
  organisationId: number,
  date: string,
  when: "start" | "end" = "end",
): Promise<bigint> {
  if (!ISO_DATE.test(date) || !isCalendarDate(date)) {
    throw notFound(`"${date}" is not a date in the form YYYY-MM-DD.`);
  }
  const accountId = await p.accounts.forOrganisation(organisationId);
  return balanceBefore(p, accountId, date, when === "end" ? 1 : 0);
}

/** Running balance of the account's last entry before local midnight of `date` + `plusDays`. */
export async function balanceBefore(p: Payments, accountId: number, date: string, plusDays: number) {
  const rows = await p.db.$queryRaw<{ balance: bigint }[]>`
    SELECT balance_after_cents AS balance FROM entries
     WHERE account_id = ${accountId}
       AND created_at < ((${date}::date + ${plusDays}::int)::timestamp AT TIME ZONE ${p.timeZone})
     ORDER BY created_at DESC, entry_no DESC
     LIMIT 1`;
  return rows[0]?.balance ?? 0n;
}

/** An organisation's balance and its 20 most recent entries, newest first. */
export async function orgBalanceWithRecent(p: Payments, organisationId: number, limit = 20) {
  const accountId = await p.accounts.forOrganisation(organisationId);
  const [balanceCents, entries] = await Promise.all([
    orgBalance(p, organisationId),
    statementRows(p.db, accountId, { limit }),
  ]);
  return { balanceCents, entries };
}
