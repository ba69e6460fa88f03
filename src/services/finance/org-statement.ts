// A club's statement (reference §3.13, §7.2): a page of lines with the closing balance above (the newest line's)
// and the opening balance below (before the oldest line), and the summary of amounts by type over the last
// 30 / 90 / 365 days or all time.
import { badInput } from "../../lib/errors";
import { statementRows } from "../ledger/statement-rows";
import type { Payments } from "../payments/context";
import type { StatementQuery } from "../statements/member-statement";

export const ORG_PAGE = 30;
export const SUMMARY_RANGES = ["30", "90", "365", "All"] as const;

/** A page of the club's statement, filtered like the member's (dates, type). Opening and closing balances are
 * shown only without a type filter: lines of one type do not follow each other's running balance. */
export async function orgStatementPage(p: Payments, organisationId: number, q: StatementQuery = {}) {
  const accountId = await p.accounts.forOrganisation(organisationId);
  const rows = await statementRows(p.db, accountId, {
    limit: ORG_PAGE + 1,
    beforeEntryNo: q.before,
    from: q.from,
    to: q.to,
    type: q.type,
    timeZone: p.timeZone,
  });
  const lines = rows.slice(0, ORG_PAGE);
  const oldest = lines.at(-1);
  return {
    lines,
    closingCents: q.type ? null : (lines[0]?.balanceAfterCents ?? null),
    openingCents: oldest && !q.type ? oldest.balanceAfterCents - oldest.amountCents : null,
    nextBefore: rows.length > ORG_PAGE ? oldest!.entryNo : null,
  };
}

export async function orgSummary(p: Payments, organisationId: number, range: string) {
  if (!(SUMMARY_RANGES as readonly string[]).includes(range)) {
    throw badInput("The range is 30, 90 or 365 days, or All.");
  }
  const accountId = await p.accounts.forOrganisation(organisationId);
  const days = range === "All" ? null : Number(range);
  const rows = await p.db.$queryRaw<{ type: string; total: bigint }[]>`
    SELECT type, sum(amount_cents)::bigint AS total FROM entries
     WHERE account_id = ${accountId}
       AND (${days}::int IS NULL OR created_at >= now() - make_interval(days => ${days}::int))
     GROUP BY type ORDER BY total DESC`;
  return { rows, totalCents: rows.reduce((a, r) => a + r.total, 0n), range };
}
