// Names of downloaded files. What a file is, whose it is and which period or moment it covers go in its name, so
// the file itself can start with its header row (spreadsheets sort and import it as a table) and two downloads of
// different things never share a name: statement-620001-2026-11-01-to-2026-11-30.csv.
import type { Response } from "express";
import { localTime } from "../services/statements/statement-csv";

type Part = string | number | null | undefined;

/** Lower-case letters, digits, dots and single dashes: safe in a header and on every file system. */
const slug = (v: string | number) =>
  String(v)
    .toLowerCase()
    .replace(/[^a-z0-9.]+/g, "-")
    .replace(/^[-.]+|[-.]+$/g, "");

/** The parts that are given, joined by "-", with the extension. */
export function downloadName(parts: Part[], ext: string): string {
  const kept = parts.filter((x): x is string | number => x !== null && x !== undefined && x !== "").map(slug);
  return `${kept.filter(Boolean).join("-")}.${ext}`;
}

/** The moment of a download in the app's time zone, to the minute: "2026-11-30-0824". */
export function downloadStamp(timeZone: string, now = new Date()): string {
  const t = localTime(now, timeZone);
  return `${t.slice(0, 10)}-${t.slice(11, 13)}${t.slice(14, 16)}`;
}

/** A period as name parts, "<from>-to-<to>"; an open end is the moment of the download (what it covers). */
export function periodParts(from: string | null | undefined, to: string | null | undefined, timeZone: string): Part[] {
  return [from, "to", to || downloadStamp(timeZone)];
}

/** Marks the response as a download named `filename` (made by downloadName: nothing to quote or encode). */
export function attachment(res: Response, filename: string) {
  res.setHeader("Content-Disposition", `attachment; filename="${filename}"`);
}

/** A statement's file name: whose (ABF number, or "club" and its number), the type filter, and the period. */
export function statementFileName(
  subject: Part[],
  q: { from?: string; to?: string; type?: string },
  timeZone: string,
  ext: "csv" | "pdf",
) {
  return downloadName(["statement", ...subject, q.type, ...periodParts(q.from, q.to, timeZone)], ext);
}
