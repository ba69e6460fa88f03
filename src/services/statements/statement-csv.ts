// The statement as CSV (reference §3.13): the original's header (Date, Counterparty, Reference, Type, Description,
// Amount, Balance) as the first line — the original's title line above it (name, ABF number, download time) broke
// sorting and imports, so those are in the file's name instead — then the lines newest first, times in the
// configured zone. PostgreSQL writes the file (COPY), streamed with back-pressure: constant memory for any length.
// Cells a spreadsheet would run as a formula are neutralised.
import pg from "pg";
import type { CopyQuery } from "../../db/copy-csv";
import { dateTimeFormat } from "../../lib/intl-cache";
import { amountCell, localTimeCell, setting, textCell } from "../exports/csv-sql";
import { STATEMENT_FROM, SYSTEM_NAMES, type StatementFilter } from "../ledger/statement-rows";

/** OWASP's advice: prefix cells starting with = + - @ (or tab / CR) with an apostrophe. Amounts are not text. */
export function safeCell(v: string) {
  return /^[=+\-@\t\r]/.test(v) ? `'${v}` : v;
}

/** "2026-11-27 08:24:05" in `timeZone`. The formatter is built once per zone: building one costs more than using it. */
export function localTime(d: Date, timeZone: string) {
  const f = dateTimeFormat("en-CA", {
    timeZone,
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
    hourCycle: "h23",
  });
  const v: Record<string, string> = {};
  for (const part of f.formatToParts(d)) v[part.type] = part.value;
  return `${v.year}-${v.month}-${v.day} ${v.hour}:${v.minute}:${v.second}`;
}

/** The statement CSV as one COPY query (see src/db/copy-csv.ts): PostgreSQL formats every cell. */
export function statementCsvQuery(
  accountId: number,
  timeZone: string,
  q: StatementFilter & { before?: number },
): CopyQuery {
  const settings: Record<string, string> = { TimeZone: timeZone, "bridge.account": String(accountId) };
  // Which conditions apply depends on which filters are set; their values come only through settings.
  const where: string[] = [];
  if (q.before !== undefined) {
    settings["bridge.before"] = String(q.before);
    where.push(`AND e.entry_no < ${setting("bridge.before", "int")}`);
  }
  if (q.from) {
    settings["bridge.from"] = q.from;
    where.push(`AND e.created_at >= ${setting("bridge.from", "date::timestamptz")}`);
  }
  if (q.to) {
    settings["bridge.to"] = q.to;
    where.push(`AND e.created_at < (${setting("bridge.to", "date")} + 1)::timestamptz`);
  }
  if (q.type) {
    settings["bridge.type"] = q.type;
    where.push(`AND e.type = ${setting("bridge.type", "text")}`);
  }
  const systemName = `CASE ca.system_code ${Object.entries(SYSTEM_NAMES)
    .map(([code, name]) => `WHEN ${pg.escapeLiteral(code)} THEN ${pg.escapeLiteral(name)}`)
    .join(" ")} ELSE ca.system_code END`;
  const sql = `
    SELECT ${localTimeCell("e.created_at")} AS "Date",
           ${textCell(`coalesce(u.first_name || ' ' || u.last_name, o.name, ${systemName})`)} AS "Counterparty",
           ${textCell("p.reference_no")} AS "Reference",
           ${textCell("e.type")} AS "Type",
           ${textCell("p.description")} AS "Description",
           ${amountCell("e.amount_cents")} AS "Amount",
           ${amountCell("e.balance_after_cents")} AS "Balance"
      ${STATEMENT_FROM}
     WHERE e.account_id = ${setting("bridge.account", "int")} ${where.join(" ")}
     ORDER BY e.entry_no DESC`;
  return { sql, settings };
}
