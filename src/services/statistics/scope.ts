// Whose figures the statistics page shows: the whole federation (finance staff) or one club (its officers, and
// finance staff looking at it). The SQL pieces below are constants chosen by the scope; values go as parameters.
import { PAYMENT_TYPES, TOP_UP_TYPES } from "../ledger/transaction-types";

export type StatisticsScope = { kind: "federation" } | { kind: "club"; organisationId: number };

/**
 * The ledger accounts in scope (alias `a`), using parameter `$n` for a club's id; and how top-ups and payments
 * are recognised on them (alias `e` for the entry), each as a positive amount:
 * - federation: members' card top-ups; members' payments to clubs (the member's side, negated);
 * - club: the club's top-ups of its players' balances ("Club Top Up", negated; reversals show in the by-type table); the payments it
 *   received (its side).
 */
export function scopeSql(scope: StatisticsScope, n: number) {
  const list = (types: string[]) => `(${types.map((t) => `'${t.replace(/'/g, "''")}'`).join(", ")})`;
  if (scope.kind === "federation") {
    return {
      accounts: "a.kind IN ('MEMBER', 'ORGANISATION')",
      params: [] as unknown[],
      topUp: `a.kind = 'MEMBER' AND e.type IN ${list(TOP_UP_TYPES)}`,
      topUpCents: "e.amount_cents",
      payment: `a.kind = 'MEMBER' AND e.type IN ${list(PAYMENT_TYPES)}`,
      paymentCents: "-e.amount_cents",
    };
  }
  return {
    accounts: `a.kind = 'ORGANISATION' AND a.organisation_id = $${n}`,
    params: [scope.organisationId] as unknown[],
    topUp: "e.type = 'Club Top Up'",
    topUpCents: "-e.amount_cents",
    payment: `e.type IN ${list(PAYMENT_TYPES)}`,
    paymentCents: "e.amount_cents",
  };
}
