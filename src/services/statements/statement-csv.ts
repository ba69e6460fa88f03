// The statement as CSV (reference §3.13): a first line naming the member and the download time, the original's
// header (Date, Counterparty, Reference, Type, Description, Amount, Balance), newest first, times in the
// configured zone. Streamed page by page with back-pressure, so a million lines need no more memory than one page.
// Cells a spreadsheet would run as a formula are neutralised.
import type { Writable } from "node:stream";
import { stringify } from "csv-stringify";
import { formatAmount } from "../../lib/money";
import type { StatementRow } from "../ledger/statement-rows";

/** OWASP's advice: prefix cells starting with = + - @ (or tab / CR) with an apostrophe. Amounts are not text. */
export function safeCell(v: string) {
  return /^[=+\-@\t\r]/.test(v) ? `'${v}` : v;
}

export function localTime(d: Date, timeZone: string) {
  const parts = new Intl.DateTimeFormat("en-CA", {
    timeZone,
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
    hourCycle: "h23",
  }).formatToParts(d);
  const get = (t: string) => parts.find((x) => x.type === t)?.value ?? "";
  return `${get("year")}-${get("month")}-${get("day")} ${get("hour")}:${get("minute")}:${get("second")}`;
}

export async function writeStatementCsv(
  out: Writable,
  head: { title: string[]; timeZone: string },
  rows: AsyncIterable<StatementRow>,
) {
  const csv = stringify();
  csv.pipe(out);
  const write = async (record: string[]) => {
    if (!csv.write(record)) await new Promise((r) => csv.once("drain", r));
  };
  await write(head.title.map(safeCell));
  await write(["Date", "Counterparty", "Reference", "Type", "Description", "Amount", "Balance"]);
  for await (const r of rows) {
    await write([
      localTime(r.createdAt, head.timeZone),
      safeCell(r.counterparty ?? ""),
      safeCell(r.referenceNo),
      safeCell(r.type),
      safeCell(r.description),
      formatAmount(r.amountCents).replaceAll(",", ""),
      formatAmount(r.balanceAfterCents).replaceAll(",", ""),
    ]);
  }
  await new Promise<void>((resolve, reject) => {
    out.once("finish", resolve);
    out.once("error", reject);
    csv.end();
  });
}
