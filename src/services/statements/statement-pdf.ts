// The statement as PDF (reference §3.13; the original's endpoint errors, decision 9): member details, period,
// opening and closing balance, then the lines oldest first in a table whose header repeats on every page, and
// "Page N of M" on each. DejaVu Sans (from npm) is embedded so any name prints correctly (Łukasz Żółć).
import fs from "node:fs";
import path from "node:path";
import { PassThrough, type Writable } from "node:stream";
import PDFDocument from "pdfkit";
import { badInput } from "../../lib/errors";
import { formatMoney } from "../../lib/money";
import { projectRoot } from "../../lib/paths";
import type { StatementRow } from "../ledger/statement-rows";
import { localTime } from "./statement-csv";

const FONT_DIR = path.join(projectRoot, "node_modules", "dejavu-fonts-ttf", "ttf");
const REGULAR = fs.readFileSync(path.join(FONT_DIR, "DejaVuSans.ttf"));
const BOLD = fs.readFileSync(path.join(FONT_DIR, "DejaVuSans-Bold.ttf"));

/** More than this and the member is asked to choose a shorter period (or download the CSV). */
export const MAX_PDF_LINES = 20_000;

const COLUMNS = [
  { title: "Date", width: 62, align: "left" as const },
  { title: "Counterparty", width: 92, align: "left" as const },
  { title: "Type", width: 72, align: "left" as const },
  { title: "Description", width: 130, align: "left" as const },
  { title: "In", width: 52, align: "right" as const },
  { title: "Out", width: 52, align: "right" as const },
  { title: "Balance", width: 60, align: "right" as const },
];

export interface PdfHead {
  name: string;
  /** Who it is beside the name: "ABF 620001", "Club number 3107". */
  identity: string;
  period: string;
  timeZone: string;
  generatedAt: Date;
}

/** The PDF in memory (statements are small and capped), so a refusal (too many lines) can still be an error page. */
export async function statementPdf(head: PdfHead, rowsNewestFirst: AsyncIterable<StatementRow>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  const sink = new PassThrough();
  sink.on("data", (c: Buffer) => chunks.push(c));
  await writeStatementPdf(sink, head, rowsNewestFirst);
  return Buffer.concat(chunks);
}

export async function writeStatementPdf(out: Writable, head: PdfHead, rowsNewestFirst: AsyncIterable<StatementRow>) {
  const rows: StatementRow[] = [];
  for await (const r of rowsNewestFirst) {
    rows.push(r);
    if (rows.length > MAX_PDF_LINES) {
      throw badInput(
        `That period has more than ${MAX_PDF_LINES.toLocaleString("en-AU")} lines: choose a shorter one, or download the CSV.`,
      );
    }
  }
  rows.reverse();
  const opening = rows.length ? rows[0]!.balanceAfterCents - rows[0]!.amountCents : null;
  const closing = rows.length ? rows.at(-1)!.balanceAfterCents : null;

  const doc = new PDFDocument({
    size: "A4",
    margin: 36,
    bufferPages: true,
    info: { Title: `Bridge Credits statement - ${head.name}` },
  });
  doc.registerFont("body", REGULAR);
  doc.registerFont("bold", BOLD);
  const done = new Promise<void>((resolve, reject) => {
    out.once("finish", resolve);
    out.once("error", reject);
  });
  doc.pipe(out);

  doc.font("bold").fontSize(16).text("Bridge Credits statement");
  doc.font("body").fontSize(10).moveDown(0.3);
  doc.text(`${head.name} · ${head.identity}`);
  doc.text(`Period: ${head.period}`);
  doc.text(`Produced ${localTime(head.generatedAt, head.timeZone)} (${head.timeZone})`);
  doc.moveDown(0.3);
  doc.text(`Opening balance: ${opening === null ? "—" : formatMoney(opening)}`);
  doc.text(`Closing balance: ${closing === null ? "—" : formatMoney(closing)}`);
  doc.moveDown(0.6);

  const left = doc.page.margins.left;
  const bottom = () => doc.page.height - doc.page.margins.bottom - 20;
  const drawRow = (cells: string[], font: "body" | "bold") => {
    doc.font(font).fontSize(7.5);
    const heights = cells.map((c, i) => doc.heightOfString(c, { width: COLUMNS[i]!.width - 4 }));
    const h = Math.max(...heights) + 3;
    if (doc.y + h > bottom()) {
      doc.addPage();
      if (font === "body") drawHeader();
      doc.font(font).fontSize(7.5);
    }
    const y = doc.y;
    let x = left;
    cells.forEach((c, i) => {
      doc.text(c, x + 2, y, { width: COLUMNS[i]!.width - 4, align: COLUMNS[i]!.align });
      x += COLUMNS[i]!.width;
    });
    doc.x = left;
    doc.y = y + h;
  };
  const drawHeader = () => {
    drawRow(
      COLUMNS.map((c) => c.title),
      "bold",
    );
    doc
      .moveTo(left, doc.y - 1)
      .lineTo(left + COLUMNS.reduce((a, c) => a + c.width, 0), doc.y - 1)
      .stroke();
  };

  if (rows.length === 0) {
    doc.text("No transactions in this period.");
  } else {
    drawHeader();
    for (const r of rows) {
      drawRow(
        [
          localTime(r.createdAt, head.timeZone).slice(0, 16),
          r.counterparty ?? "",
          r.type,
          r.description,
          r.amountCents > 0n ? formatMoney(r.amountCents) : "",
          r.amountCents < 0n ? formatMoney(-r.amountCents) : "",
          formatMoney(r.balanceAfterCents),
        ],
        "body",
      );
    }
  }

  const range = doc.bufferedPageRange();
  for (let i = 0; i < range.count; i++) {
    doc.switchToPage(range.start + i);
    doc.font("body").fontSize(8);
    const y = doc.page.height - doc.page.margins.bottom - 10;
    doc.page.margins.bottom = 0; // writing in the footer must not start a new page
    doc.text(`Page ${i + 1} of ${range.count}`, left, y, {
      width: doc.page.width - left - doc.page.margins.right,
      align: "right",
      lineBreak: false,
    });
  }
  doc.end();
  await done;
}
