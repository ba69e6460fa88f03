// Sends rows as a CSV download, streamed with back-pressure; text cells are neutralised against spreadsheet
// formula injection (numbers are passed as numbers' text and left alone). The first row is the header: what the
// file is, whose and for when is in its name (download-name.ts), never a title line above the header.

import { stringify } from "csv-stringify";
import type { Request, Response } from "express";
import type pg from "pg";
import { type CopyQuery, copyCsv } from "../db/copy-csv";
import { plainAmount } from "../lib/money";
import { safeCell } from "../services/statements/statement-csv";
import { attachment } from "./download-name";

export type CsvCell = string | number | bigint | null | undefined | { raw: string };

/** A cell written exactly as given (amounts, which may start with "-"). */
export const raw = (v: string) => ({ raw: v });

/** An amount cell ("-12.50"); empty for none. */
export const amountCell = (cents: bigint | null | undefined) =>
  cents === null || cents === undefined ? "" : raw(plainAmount(cents));

export async function sendCsv(res: Response, filename: string, rows: Iterable<CsvCell[]> | AsyncIterable<CsvCell[]>) {
  res.setHeader("Content-Type", "text/csv; charset=utf-8");
  attachment(res, filename);
  const csv = stringify();
  csv.pipe(res);
  for await (const row of rows) {
    const cells = row.map((c) =>
      c === null || c === undefined
        ? ""
        : typeof c === "object"
          ? c.raw
          : typeof c === "string"
            ? safeCell(c)
            : String(c),
    );
    if (!csv.write(cells)) await new Promise((r) => csv.once("drain", r));
  }
  await new Promise<void>((resolve) => {
    res.once("finish", resolve);
    csv.end();
  });
}

/**
 * Sends a CSV that PostgreSQL writes (src/db/copy-csv.ts). A failure before the first byte is an ordinary error
 * page; after it, the file cannot turn into one: the connection is cut, so the download shows as failed rather
 * than as a shorter file, and the cause goes only to the log.
 */
export async function sendCopyCsv(req: Request, res: Response, pool: pg.Pool, filename: string, query: CopyQuery) {
  res.setHeader("Content-Type", "text/csv; charset=utf-8");
  attachment(res, filename);
  try {
    await copyCsv(pool, res, query);
  } catch (e) {
    if (!res.headersSent) {
      res.removeHeader("Content-Type");
      res.removeHeader("Content-Disposition");
      throw e;
    }
    const gone = req.destroyed || res.destroyed;
    res.destroy();
    if (gone) req.log?.info("CSV download ended by the client");
    else req.log?.error({ err: e }, "CSV export failed after it started");
  }
}
