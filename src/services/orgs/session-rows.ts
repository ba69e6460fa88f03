// The rows of a "Charge a session" form: pasted lines or a CSV file's text (`abf_number,amount,description`).
// A line is CSV when its first field ends at a comma, else tab-separated (pasted from a spreadsheet), else
// "<ABF number> <amount> <description…>" separated by spaces. Amounts are dollars, as in every other form.
// Every bad line is reported by its line number; the caller books nothing while any line is bad.
import { AppError } from "../../lib/errors";
import { formatMoney, parseAmount } from "../../lib/money";
import { MAX_BATCH, MAX_CHARGE_CENTS } from "../api/schemas";

export interface SessionRow {
  /** 1-based line of the pasted text or file. */
  line: number;
  member: number;
  amountCents: bigint;
  /** The row's own description; null: the form's. */
  description: string | null;
}

export interface RowProblem {
  line: number;
  message: string;
}

export const MAX_DESCRIPTION = 80;
const INT4_MAX = 2_147_483_647;

/** One CSV line's fields (quotes and doubled quotes as RFC 4180); null when a quote is left open. */
function csvFields(line: string): string[] | null {
  const out: string[] = [];
  let i = 0;
  for (;;) {
    while (line[i] === " " || line[i] === "\t") i++;
    let field = "";
    if (line[i] === '"') {
      i++;
      for (;;) {
        if (i >= line.length) return null;
        if (line[i] === '"') {
          if (line[i + 1] !== '"') break;
          field += '"';
          i += 2;
        } else field += line[i++];
      }
      i++;
      while (line[i] === " " || line[i] === "\t") i++;
      if (i < line.length && line[i] !== ",") return null;
    } else {
      const comma = line.indexOf(",", i);
      const end = comma < 0 ? line.length : comma;
      field = line.slice(i, end);
      i = end;
    }
    out.push(field.trim());
    if (i >= line.length) return out;
    i++;
  }
}

function fieldsOf(line: string): string[] | null {
  // CSV unless the comma only comes inside a space-separated description ("620001 12.50 Visitor, late").
  const beforeComma = line.split(",")[0]!.trim();
  if ((line.includes(",") && !/\s/.test(beforeComma)) || beforeComma.startsWith('"')) return csvFields(line);
  if (line.includes("\t")) return line.split("\t").map((f) => f.trim());
  const [abf = "", amount = "", ...rest] = line.trim().split(/\s+/);
  return rest.length ? [abf, amount, rest.join(" ")] : [abf, amount];
}

const isHeader = (fields: string[]) => /^abf/i.test(fields[0] ?? "");

function rowOf(line: number, fields: string[]): SessionRow | string {
  if (fields.length > 3) return "too many fields (abf_number, amount, description): quote a description with commas.";
  const [abf = "", amount = "", description = ""] = fields;
  if (!/^\d{1,10}$/.test(abf) || Number(abf) === 0 || Number(abf) > INT4_MAX) {
    return abf ? `"${abf}" is not an ABF number.` : "the ABF number is missing.";
  }
  // "620001, 7,50": a decimal comma splits the amount into dollars and a description of bare digits (it booked
  // $7.00 described "50"). No real description is one or two digits; ask for the dot instead.
  if (/^\d+$/.test(amount) && /^\d{1,2}$/.test(description)) {
    return `"${amount},${description}" looks like an amount written with a decimal comma: write ${amount}.${description.padEnd(2, "0")} (a comma separates the fields), or give a description in words.`;
  }
  let cents: bigint;
  try {
    cents = parseAmount(amount, "The amount");
  } catch (e) {
    if (e instanceof AppError) return e.message.replace(/^The amount/, "the amount");
    throw e;
  }
  if (cents <= 0n) return "the amount must be more than zero.";
  if (cents > BigInt(MAX_CHARGE_CENTS)) return `the amount must be at most ${formatMoney(MAX_CHARGE_CENTS)}.`;
  if (description.length > MAX_DESCRIPTION) return `the description must be at most ${MAX_DESCRIPTION} characters.`;
  return { line, member: Number(abf), amountCents: cents, description: description || null };
}

export function parseSessionRows(text: string): { rows: SessionRow[]; problems: RowProblem[] } {
  const rows: SessionRow[] = [];
  const problems: RowProblem[] = [];
  const lines = text.replace(/^\uFEFF/, "").split(/\r\n|\n|\r/);
  let first = true;
  lines.forEach((raw, i) => {
    const line = i + 1;
    if (raw.trim() === "") return;
    const fields = fieldsOf(raw);
    const wasFirst = first;
    first = false;
    if (!fields) {
      problems.push({ line, message: "a quote is not closed." });
      return;
    }
    // The CSV's header row (abf_number,amount,description), when there is one.
    if (wasFirst && isHeader(fields)) return;
    const row = rowOf(line, fields);
    if (typeof row === "string") problems.push({ line, message: row });
    else rows.push(row);
  });
  if (rows.length > MAX_BATCH) {
    problems.push({ line: rows[MAX_BATCH]!.line, message: `at most ${MAX_BATCH} charges in one session.` });
  }
  if (rows.length === 0 && problems.length === 0) {
    problems.push({ line: 0, message: "Enter at least one line: an ABF number and an amount." });
  }
  return { rows, problems };
}
