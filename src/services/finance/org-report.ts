// The club finance report (issue 19 item 1; the original's club "reports" tab): a club account's lines over a date
// range, of one type or all, matching a free-text search (member name, ABF number, description, reference), with
// the member's name and ABF number and the session, event or API reference the posting carries. One SQL text
// serves the page (bind parameters), the CSV (PostgreSQL's COPY, filters bound as settings) and the workbook, so
// the three cannot disagree on which lines a filter keeps.
import pg from "pg";
import type { CopyQuery } from "../../db/copy-csv";
import { badInput } from "../../lib/errors";
import { amountCell, localTimeCell, setting, textCell } from "../exports/csv-sql";
import { SYSTEM_NAMES } from "../ledger/statement-rows";
import type { TransactionType } from "../ledger/transaction-types";
import type { Payments } from "../payments/context";
import { localTime } from "../statements/statement-csv";

export interface OrgReportFilter {
  /** First and last calendar day (YYYY-MM-DD) in the app's time zone, both included. */
  from?: string;
  to?: string;
  type?: TransactionType;
  /** Part of the member's name, their ABF number, the description or a reference (any case). */
  search?: string;
}

export const REPORT_PAGE = 50;
/** More lines than this and the workbook (built in memory) is refused: choose fewer days, or take the CSV. */
export const MAX_XLSX_LINES = 100_000;

/** The page's and the files' columns, in order (the CSV's header). */
export const REPORT_COLUMNS = [
  "Date",
  "Type",
  "Member",
  "ABF Number",
  "Other party",
  "Description",
  "Reference",
  "Session / event",
  "Amount",
  "Balance",
] as const;

export interface ReportLine {
  entryNo: number;
  date: string;
  type: string;
  member: string | null;
  abfNumber: number | null;
  otherParty: string | null;
  description: string;
  reference: string;
  sessionOrEvent: string | null;
  amountCents: bigint;
  balanceAfterCents: bigint;
}

/** Where a filter's value goes: a bind parameter ($n) for ordinary queries, a setting for COPY. */
interface Binder {
  bind(name: string, value: string, type: string): string;
}

function paramBinder() {
  const values: string[] = [];
  return {
    values,
    bind: (_name: string, value: string, type: string) => {
      values.push(value);
      return `$${values.length}::${type}`;
    },
  };
}

function settingBinder(timeZone: string) {
  const settings: Record<string, string> = { TimeZone: timeZone };
  return {
    settings,
    bind: (name: string, value: string, type: string) => {
      settings[`bridge.${name}`] = value;
      return setting(`bridge.${name}`, type);
    },
  };
}

const SYSTEM_NAME = `CASE ca.system_code ${Object.entries(SYSTEM_NAMES)
  .map(([code, name]) => `WHEN ${pg.escapeLiteral(code)} THEN ${pg.escapeLiteral(name)}`)
  .join(" ")} ELSE ca.system_code END`;

/** The session batch, API charge reference, event or club session a posting names (a refund: its charge's). */
const SESSION_OR_EVENT = `CASE
  WHEN sb.id IS NOT NULL THEN 'Session ' || sb.id || ': ' || sb.description || coalesce(' (' || sb.reference || ')', '')
  WHEN ac.reference IS NOT NULL THEN 'Reference ' || ac.reference
  WHEN coalesce(p.event_id, ac.event_id) IS NOT NULL THEN 'Event ' || coalesce(p.event_id, ac.event_id)
  WHEN coalesce(p.club_session_id, ac.session_id) IS NOT NULL THEN 'Club session ' || coalesce(p.club_session_id, ac.session_id)
END`;

const MEMBER_NAME = "u.first_name || ' ' || u.last_name";

/** FROM … WHERE for the club's account and the filters; values only through `b`. */
function fromWhere(b: Binder, accountId: number, timeZone: string, f: OrgReportFilter) {
  const where = [`e.account_id = ${b.bind("account", String(accountId), "int")}`];
  if (f.from || f.to) {
    const tz = b.bind("tz", timeZone, "text");
    if (f.from) where.push(`e.created_at >= (${b.bind("from", f.from, "date")}::timestamp AT TIME ZONE ${tz})`);
    if (f.to) where.push(`e.created_at < ((${b.bind("to", f.to, "date")} + 1)::timestamp AT TIME ZONE ${tz})`);
  }
  if (f.type) where.push(`e.type = ${b.bind("type", f.type, "text")}`);
  if (f.search?.trim()) {
    // strpos, not LIKE: a % or _ typed in the search is looked for as itself. Both sides are lowered by the
    // database (its locale decides which letters have a case), so the two always agree.
    const needle = `lower(${b.bind("search", f.search.trim(), "text")})`;
    where.push(
      `strpos(lower(concat_ws(' ', ${MEMBER_NAME}, u.system_number::text, p.description, p.reference_no, ac.reference,
                              sb.description, sb.reference)), ${needle}) > 0`,
    );
  }
  return `
      FROM entries e
      JOIN postings p ON p.id = e.posting_id
      LEFT JOIN accounts ca ON ca.id = e.counterparty_account_id
      LEFT JOIN users u ON u.id = ca.user_id
      LEFT JOIN organisations o ON o.id = ca.organisation_id
      LEFT JOIN LATERAL (
        SELECT c.reference, c.session_batch_id, c.event_id, c.session_id FROM api_charges c WHERE c.posting_id = p.id
        UNION ALL
        SELECT c.reference, c.session_batch_id, c.event_id, c.session_id
          FROM api_refunds r JOIN api_charges c ON c.id = r.charge_id WHERE r.posting_id = p.id
        LIMIT 1) ac ON true
      LEFT JOIN session_charge_batches sb ON sb.id = ac.session_batch_id
     WHERE ${where.join("\n       AND ")}`;
}

interface RawLine {
  entry_no: number;
  created_at: Date;
  type: string;
  member: string | null;
  abf: number | null;
  other: string | null;
  description: string;
  reference_no: string;
  session_or_event: string | null;
  amount_cents: string;
  balance_after_cents: string;
}

const LINE_COLUMNS = `e.entry_no, e.created_at, e.type, ${MEMBER_NAME} AS member, u.system_number AS abf,
       CASE WHEN u.id IS NULL THEN coalesce(o.name, ${SYSTEM_NAME}) END AS other, p.description, p.reference_no,
       ${SESSION_OR_EVENT} AS session_or_event, e.amount_cents::text, e.balance_after_cents::text`;

const toLine =
  (timeZone: string) =>
  (r: RawLine): ReportLine => ({
    entryNo: r.entry_no,
    date: localTime(r.created_at, timeZone),
    type: r.type,
    member: r.member,
    abfNumber: r.abf,
    otherParty: r.other,
    description: r.description,
    reference: r.reference_no,
    sessionOrEvent: r.session_or_event,
    amountCents: BigInt(r.amount_cents),
    balanceAfterCents: BigInt(r.balance_after_cents),
  });

export interface TypeTotal {
  type: string;
  lines: number;
  inCents: bigint;
  outCents: bigint;
  netCents: bigint;
}

async function typeTotals(p: Payments, accountId: number, f: OrgReportFilter): Promise<TypeTotal[]> {
  const b = paramBinder();
  const sql = `SELECT e.type, count(*)::int AS lines,
                      coalesce(sum(e.amount_cents) FILTER (WHERE e.amount_cents > 0), 0)::text AS in_cents,
                      coalesce(-sum(e.amount_cents) FILTER (WHERE e.amount_cents < 0), 0)::text AS out_cents,
                      sum(e.amount_cents)::text AS net_cents
               ${fromWhere(b, accountId, p.timeZone, f)}
               GROUP BY e.type ORDER BY e.type`;
  const { rows } = await p.pool.query<{
    type: string;
    lines: number;
    in_cents: string;
    out_cents: string;
    net_cents: string;
  }>(sql, b.values);
  return rows.map((r) => ({
    type: r.type,
    lines: r.lines,
    inCents: BigInt(r.in_cents),
    outCents: BigInt(r.out_cents),
    netCents: BigInt(r.net_cents),
  }));
}

/** Sums of totals by type (the report's overall line). */
export function overall(byType: TypeTotal[]) {
  return byType.reduce(
    (t, x) => ({
      lines: t.lines + x.lines,
      inCents: t.inCents + x.inCents,
      outCents: t.outCents + x.outCents,
      netCents: t.netCents + x.netCents,
    }),
    { lines: 0, inCents: 0n, outCents: 0n, netCents: 0n },
  );
}

/** One page of lines (newest first) and the totals by type over every line the filters keep. */
export async function orgReportPage(p: Payments, organisationId: number, f: OrgReportFilter, page = 1) {
  const accountId = await p.accounts.forOrganisation(organisationId);
  const b = paramBinder();
  const from = fromWhere(b, accountId, p.timeZone, f);
  const offset = b.bind("offset", String((page - 1) * REPORT_PAGE), "int");
  const [lines, byType] = await Promise.all([
    p.pool.query<RawLine>(
      `SELECT ${LINE_COLUMNS} ${from} ORDER BY e.entry_no DESC LIMIT ${REPORT_PAGE} OFFSET ${offset}`,
      b.values,
    ),
    typeTotals(p, accountId, f),
  ]);
  const totals = overall(byType);
  return {
    lines: lines.rows.map(toLine(p.timeZone)),
    byType,
    totals,
    page,
    pages: Math.max(1, Math.ceil(totals.lines / REPORT_PAGE)),
  };
}

/** Every line the filters keep, newest first (the workbook); refuses more than MAX_XLSX_LINES. */
export async function allReportLines(p: Payments, organisationId: number, f: OrgReportFilter): Promise<ReportLine[]> {
  const accountId = await p.accounts.forOrganisation(organisationId);
  const b = paramBinder();
  const { rows } = await p.pool.query<RawLine>(
    `SELECT ${LINE_COLUMNS} ${fromWhere(b, accountId, p.timeZone, f)} ORDER BY e.entry_no DESC LIMIT ${MAX_XLSX_LINES + 1}`,
    b.values,
  );
  if (rows.length > MAX_XLSX_LINES) {
    throw badInput(
      `The report has more than ${MAX_XLSX_LINES.toLocaleString("en-AU")} lines: choose fewer days for the workbook, or download the CSV.`,
    );
  }
  return rows.map(toLine(p.timeZone));
}

/** The report as one COPY query (src/db/copy-csv.ts): the page's columns, header first, newest first. */
export async function orgReportCsvQuery(p: Payments, organisationId: number, f: OrgReportFilter): Promise<CopyQuery> {
  const accountId = await p.accounts.forOrganisation(organisationId);
  const b = settingBinder(p.timeZone);
  const sql = `
    SELECT ${localTimeCell("e.created_at")} AS "Date",
           ${textCell("e.type")} AS "Type",
           ${textCell(MEMBER_NAME)} AS "Member",
           u.system_number AS "ABF Number",
           ${textCell(`CASE WHEN u.id IS NULL THEN coalesce(o.name, ${SYSTEM_NAME}) END`)} AS "Other party",
           ${textCell("p.description")} AS "Description",
           ${textCell("p.reference_no")} AS "Reference",
           ${textCell(SESSION_OR_EVENT)} AS "Session / event",
           ${amountCell("e.amount_cents")} AS "Amount",
           ${amountCell("e.balance_after_cents")} AS "Balance"
      ${fromWhere(b, accountId, p.timeZone, f)}
     ORDER BY e.entry_no DESC`;
  return { sql, settings: b.settings };
}
