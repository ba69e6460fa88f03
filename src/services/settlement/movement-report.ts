// The organisation movement report (reference §3.18): for every open club, its balance at the start of the
// period, what moved it — event entries, club sessions, memberships, other, manual adjustments, settlements —
// and its balance at the end; with a totals row. Opening plus movements equals closing for every club (checked).
import type { CopyQuery } from "../../db/copy-csv";
import { badInput } from "../../lib/errors";
import { dateTimeFormat } from "../../lib/intl-cache";
import { amountCell, setting, textCell } from "../exports/csv-sql";
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
  const [y, m] = dateTimeFormat("en-CA", { timeZone, year: "numeric", month: "2-digit" })
    .format(now)
    .split("-")
    .map(Number) as [number, number];
  const from = new Date(Date.UTC(y, m - 2, 1)).toISOString().slice(0, 10);
  const to = new Date(Date.UTC(y, m - 1, 0)).toISOString().slice(0, 10);
  return { from, to };
}

/**
 * The report's query; `from` and `to` are SQL expressions of type date and `tz` one of type text: bind parameters
 * for the page, settings read by the COPY export. Never input.
 */
function movementSql(from: string, to: string, tz: string) {
  return `
    WITH bounds AS (
      SELECT (${from}::timestamp AT TIME ZONE ${tz}) AS s,
             ((${to} + 1)::timestamp AT TIME ZONE ${tz}) AS e)
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
}

export async function movementReport(p: Payments, from: string, to: string) {
  if (from > to) throw badInput("The start date must not be after the end date.");
  const rows = await p.db.$queryRawUnsafe<MovementRow[]>(
    movementSql("$1::date", "$2::date", "$3::text"),
    from,
    to,
    p.timeZone,
  );
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

/** The report as CSV, written by PostgreSQL (src/db/copy-csv.ts): the clubs, then the totals row. */
export function movementCsvQuery(from: string, to: string, timeZone: string): CopyQuery {
  if (from > to) throw badInput("The start date must not be after the end date.");
  const inner = movementSql(
    setting("bridge.from", "date"),
    setting("bridge.to", "date"),
    "current_setting('TimeZone')",
  );
  const cols = MOVEMENT_COLUMNS.map(([k]) => `"${k}"`);
  const sql = `
    WITH m AS (${inner})
    SELECT ${textCell("club")} AS "Club No.", ${textCell("name")} AS "Organisation",
           ${MOVEMENT_COLUMNS.map(([k, label]) => `${amountCell(`"${k}"`)} AS "${label}"`).join(", ")}
      FROM (SELECT 0 AS part, "clubNumber" AS club, name, ${cols.join(", ")} FROM m
            UNION ALL
            SELECT 1, NULL, 'Total', ${cols.map((c) => `coalesce(sum(${c}), 0)`).join(", ")} FROM m) t
     ORDER BY part, club`;
  return { sql, settings: { TimeZone: timeZone, "bridge.from": from, "bridge.to": to } };
}
