// The statement as CSV (reference §3.13): the original's header (Date, Counterparty, Reference, Type, Description,
// Amount, Balance) as the first line — the original's title line above it (name, ABF number, download time) broke
// sorting and imports, so those are in the file's name instead — then the lines newest first, times in the
// configured zone. Streamed page by page with back-pressure, so a million lines need no more memory than one page.
// Cells a spreadsheet would run as a formula are neutralised.
import type { Writable } from "node:stream";
import { stringify } from "csv-stringify";
import { plainAmount } from "../../lib/money";
import type { StatementRow } from "../ledger/statement-rows";

/** OWASP's advice: prefix cells starting with = + - @ (or tab / CR) with an apostrophe. Amounts are not text. */
export function safeCell(v: string) {
  return /^[=+\-@\t\r]/.test(v) ? `'${v}` : v;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

/** "2026-11-27 08:24:05" in `timeZone`. The formatter is built once per zone: building one costs more than using it. */
export function localTime(d: Date, timeZone: string) {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat("en-CA", {
      timeZone,
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
      hourCycle: "h23",
    });
    formatters.set(timeZone, f);
  }
  const v: Record<string, string> = {};
  for (const part of f.formatToParts(d)) v[part.type] = part.value;
  return `${v.year}-${v.month}-${v.day} ${v.hour}:${v.minute}:${v.second}`;
}

export async function writeStatementCsv(out: Writable, timeZone: string, rows: AsyncIterable<StatementRow>) {
  const csv = stringify();
  csv.pipe(out);
  const write = async (record: string[]) => {
    if (!csv.write(record)) await new Promise((r) => csv.once("drain", r));
  };
  await write(["Date", "Counterparty", "Reference", "Type", "Description", "Amount", "Balance"]);
  for await (const r of rows) {
    await write([
      localTime(r.createdAt, timeZone),
      safeCell(r.counterparty ?? ""),
      safeCell(r.referenceNo),
      safeCell(r.type),
      safeCell(r.description),
      plainAmount(r.amountCents),
      plainAmount(r.balanceAfterCents),
    ]);
  }
  await new Promise<void>((resolve, reject) => {
    out.once("finish", resolve);
    out.once("error", reject);
    csv.end();
  });
}
