// The club finance report as an Excel workbook (exceljs): every line, then the same lines by type, by member, by
// session / event / API reference, the top-ups and settlements, and a summary. Member name and ABF number are on
// every line-level row. Amounts are numeric cells in dollars (whole cents / 100: exact as text, and a spreadsheet
// sums them); sums are done in integer cents here, never in the spreadsheet's floats.
import ExcelJS from "exceljs";
import { plainAmount } from "../../lib/money";
import type { TransactionType } from "../ledger/transaction-types";
import { overall, REPORT_COLUMNS, type ReportLine, type TypeTotal } from "./org-report";

/** The "top-ups and settlements" sheet's types: money a club puts on members' balances, and its settlements. */
export const TOP_UP_AND_SETTLEMENT_TYPES: TransactionType[] = [
  "Club Top Up",
  "Club Top Up Rev",
  "Manual Top Up",
  "Auto Top Up",
  "CC Payment",
  "Settlement",
];

const dollars = (cents: bigint) => Number(plainAmount(cents));
const MONEY = "#,##0.00;[Red]-#,##0.00";

function lineCells(l: ReportLine) {
  return [
    l.date,
    l.type,
    l.member ?? "",
    l.abfNumber ?? "",
    l.otherParty ?? "",
    l.description,
    l.reference,
    l.sessionOrEvent ?? "",
    dollars(l.amountCents),
    dollars(l.balanceAfterCents),
  ];
}

function sheetOf(book: ExcelJS.Workbook, name: string, head: string[], moneyColumns: number[], widths: number[] = []) {
  const sheet = book.addWorksheet(name);
  sheet.addRow(head).font = { bold: true };
  sheet.views = [{ state: "frozen", ySplit: 1 }];
  for (const c of moneyColumns) sheet.getColumn(c).numFmt = MONEY;
  widths.forEach((w, i) => {
    sheet.getColumn(i + 1).width = w;
  });
  return sheet;
}

interface Sums {
  lines: number;
  inCents: bigint;
  outCents: bigint;
  netCents: bigint;
}
const add = (s: Sums, cents: bigint): Sums => ({
  lines: s.lines + 1,
  inCents: s.inCents + (cents > 0n ? cents : 0n),
  outCents: s.outCents + (cents < 0n ? -cents : 0n),
  netCents: s.netCents + cents,
});
const ZERO: Sums = { lines: 0, inCents: 0n, outCents: 0n, netCents: 0n };
const sumCells = (s: Sums) => [s.lines, dollars(s.inCents), dollars(s.outCents), dollars(s.netCents)];

export interface WorkbookHead {
  clubName: string;
  clubNumber: string;
  period: string;
  type: string | undefined;
  search: string | undefined;
  produced: string;
  timeZone: string;
}

/** Totals by type of the workbook's own lines (one read: the sheets cannot disagree). */
export function totalsByType(lines: ReportLine[]): TypeTotal[] {
  const by = new Map<string, Sums>();
  for (const l of lines) by.set(l.type, add(by.get(l.type) ?? ZERO, l.amountCents));
  return [...by.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([type, s]) => ({ type, ...s }));
}

export async function orgReportWorkbook(head: WorkbookHead, lines: ReportLine[]): Promise<Buffer> {
  const byType = totalsByType(lines);
  const book = new ExcelJS.Workbook();
  book.creator = "Bridge Credits";
  const widths = [20, 18, 24, 11, 24, 40, 14, 32, 12, 12];

  const all = sheetOf(book, "Transactions", [...REPORT_COLUMNS], [9, 10], widths);
  for (const l of lines) all.addRow(lineCells(l));

  const types = sheetOf(book, "By type", ["Type", "Lines", "In", "Out", "Net"], [3, 4, 5], [22, 8, 14, 14, 14]);
  for (const t of byType) types.addRow([t.type, ...sumCells(t)]);
  types.addRow(["Total", ...sumCells(overall(byType))]).font = { bold: true };

  // By member: one row per member (name and ABF number), lines with no member under the other party's name.
  const members = new Map<string, { name: string; abf: number | ""; sums: Sums }>();
  for (const l of lines) {
    const key = l.abfNumber !== null ? `m${l.abfNumber}` : `o${l.otherParty ?? ""}`;
    const m = members.get(key) ?? { name: l.member ?? l.otherParty ?? "", abf: l.abfNumber ?? "", sums: ZERO };
    m.sums = add(m.sums, l.amountCents);
    members.set(key, m);
  }
  const byMember = sheetOf(
    book,
    "By member",
    ["Member", "ABF Number", "Lines", "In", "Out", "Net"],
    [4, 5, 6],
    [28, 11, 8, 14, 14, 14],
  );
  for (const m of [...members.values()].sort((a, b) => a.name.localeCompare(b.name))) {
    byMember.addRow([m.name, m.abf, ...sumCells(m.sums)]);
  }

  // By session or event: the lines that carry one, grouped, each group followed by its subtotal.
  const groups = new Map<string, ReportLine[]>();
  for (const l of lines)
    if (l.sessionOrEvent) groups.set(l.sessionOrEvent, [...(groups.get(l.sessionOrEvent) ?? []), l]);
  const bySession = sheetOf(
    book,
    "By session or event",
    ["Session / event", "Date", "Member", "ABF Number", "Type", "Description", "Amount"],
    [7],
    [34, 20, 24, 11, 18, 40, 12],
  );
  for (const [label, group] of [...groups.entries()].sort(([a], [b]) => a.localeCompare(b))) {
    let sums = ZERO;
    for (const l of [...group].reverse()) {
      sums = add(sums, l.amountCents);
      bySession.addRow([
        label,
        l.date,
        l.member ?? "",
        l.abfNumber ?? "",
        l.type,
        l.description,
        dollars(l.amountCents),
      ]);
    }
    bySession.addRow([`${label}: ${sums.lines} line(s)`, "", "", "", "", "Subtotal", dollars(sums.netCents)]).font = {
      bold: true,
    };
  }

  const moves = sheetOf(book, "Top-ups and settlements", [...REPORT_COLUMNS], [9, 10], widths);
  for (const l of lines) if ((TOP_UP_AND_SETTLEMENT_TYPES as string[]).includes(l.type)) moves.addRow(lineCells(l));

  const total = overall(byType);
  const summary = sheetOf(book, "Summary", ["Item", "Value"], [], [26, 40]);
  const facts: [string, string | number][] = [
    ["Club", head.clubName],
    ["Club number", head.clubNumber],
    ["Period", head.period],
    ["Type", head.type ?? "All types"],
    ["Search", head.search ?? ""],
    ["Produced", `${head.produced} (${head.timeZone})`],
    ["Lines", total.lines],
    ["Total in", dollars(total.inCents)],
    ["Total out", dollars(total.outCents)],
    ["Net", dollars(total.netCents)],
  ];
  for (const [k, v] of facts) {
    const row = summary.addRow([k, v]);
    if (typeof v === "number" && k !== "Lines") row.getCell(2).numFmt = MONEY;
  }
  return Buffer.from(await book.xlsx.writeBuffer());
}
