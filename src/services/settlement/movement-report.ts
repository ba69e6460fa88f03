// The organisation movement report (reference §3.18): for every open club, its balance at the start of the
// period, what moved it — event entries, club sessions, memberships, other, manual adjustments, settlements —
// and its balance at the end; with a totals row. Opening plus movements equals closing for every club (checked).
import { badInput } from "../../lib/errors";
import type { Payments } from "../payments/context";

export interface MovementRow {
  organisationId: number;
  clubNumber: string;
  name: string;
  openingCents: bigint;
  eventsCents: bigint;
  sessionsCents: bigint;
  membershipsCents: bigint;
  otherCents: bigint;
  adjustmentsCents: bigint;
  settlementsCents: bigint;
  closingCents: bigint;
}

export const MOVEMENT_COLUMNS = [
  ["openingCents", "Opening Balance"],
  ["eventsCents", "Event Entries"],
  ["sessionsCents", "Club Sessions"],
  ["membershipsCents", "Club Memberships"],
  ["otherCents", "Other"],
  ["adjustmentsCents", "Manual Adjustments"],
  ["settlementsCents", "Settlements"],
  ["closingCents", "Closing Balance"],
] as const;

/** The previous calendar month in `timeZone`: the report's default period. */
export function previousMonth(timeZone: string, now = new Date()) {
  const [y, m] = new Intl.DateTimeFormat("en-CA", { timeZone, year: "numeric", month: "2-digit" })
    .format(now)
    .split("-")
    .map(Number) as [number, number];
  const from = new Date(Date.UTC(y, m - 2, 1)).toISOString().slice(0, 10);
  const to = new Date(Date.UTC(y, m - 1, 0)).toISOString().slice(0, 10);
  return { from, to };
}

export async function movementReport(p: Payments, from: string, to: string) {
  if (from > to) throw badInput("The start date must not be after the end date.");
  const rows = await p.db.$queryRaw<MovementRow[]>`
    WITH bounds AS (
      SELECT (${from}::date::timestamp AT TIME ZONE ${p.timeZone}) AS s,
             ((${to}::date + 1)::timestamp AT TIME ZONE ${p.timeZone}) AS e)
    SELECT o.id AS "organisationId", o.club_number AS "clubNumber", o.name,
           coalesce((SELECT x.balance_after_cents FROM entries x, bounds
                      WHERE x.account_id = a.id AND x.created_at < bounds.s
                      ORDER BY x.created_at DESC, x.entry_no DESC LIMIT 1), 0)::bigint AS "openingCents",
           coalesce(sum(e.amount_cents) FILTER (WHERE p.event_id IS NOT NULL), 0)::bigint AS "eventsCents",
           coalesce(sum(e.amount_cents) FILTER (WHERE p.event_id IS NULL AND p.club_session_id IS NOT NULL), 0)::bigint AS "sessionsCents",
           coalesce(sum(e.amount_cents) FILTER (WHERE p.event_id IS NULL AND p.club_session_id IS NULL AND e.type = 'Club Membership'), 0)::bigint AS "membershipsCents",
           coalesce(sum(e.amount_cents) FILTER (WHERE p.event_id IS NULL AND p.club_session_id IS NULL
                                                  AND e.type NOT IN ('Club Membership', 'Manual Adjustment', 'Settlement')), 0)::bigint AS "otherCents",
           coalesce(sum(e.amount_cents) FILTER (WHERE p.event_id IS NULL AND p.club_session_id IS NULL AND e.type = 'Manual Adjustment'), 0)::bigint AS "adjustmentsCents",
           coalesce(sum(e.amount_cents) FILTER (WHERE p.event_id IS NULL AND p.club_session_id IS NULL AND e.type = 'Settlement'), 0)::bigint AS "settlementsCents",
           coalesce((SELECT x.balance_after_cents FROM entries x, bounds
                      WHERE x.account_id = a.id AND x.created_at < bounds.e
                      ORDER BY x.created_at DESC, x.entry_no DESC LIMIT 1), 0)::bigint AS "closingCents"
      FROM organisations o
      JOIN accounts a ON a.organisation_id = o.id
      CROSS JOIN bounds
      LEFT JOIN entries e ON e.account_id = a.id AND e.created_at >= bounds.s AND e.created_at < bounds.e
      LEFT JOIN postings p ON p.id = e.posting_id
     WHERE o.status = 'OPEN'
     GROUP BY o.id, o.club_number, o.name, a.id
     ORDER BY o.club_number`;
  const totals = Object.fromEntries(MOVEMENT_COLUMNS.map(([k]) => [k, rows.reduce((a, r) => a + r[k], 0n)])) as Record<
    (typeof MOVEMENT_COLUMNS)[number][0],
    bigint
  >;
  const unbalanced = rows.filter(
    (r) =>
      r.openingCents +
        r.eventsCents +
        r.sessionsCents +
        r.membershipsCents +
        r.otherCents +
        r.adjustmentsCents +
        r.settlementsCents !==
      r.closingCents,
  );
  return { from, to, rows, totals, unbalanced: unbalanced.map((r) => r.name) };
}
