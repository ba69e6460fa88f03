// Reconciliation (reference §2 rows 46–49, §3.17) and the organisation movement report (row 37, §3.18).
// Global payments view. Downloads are CSV, and XLSX for the movement report.

import ExcelJS from "exceljs";
import { z } from "zod";
import { requireGlobal } from "../../auth/guards";
import { plainAmount } from "../../lib/money";
import { forReading, type Payments } from "../../services/payments/context";
import {
  MOVEMENT_COLUMNS,
  movementCsvQuery,
  movementReport,
  previousMonth,
} from "../../services/settlement/movement-report";
import { unpaidPayables } from "../../services/settlement/batch-lifecycle";
import {
  balancesAt,
  monthBefore,
  reconciliationLines,
  reconciliationSummary,
} from "../../services/settlement/reconciliation";
import { parseReferenceDate } from "../../services/settlement/settlement";
import { localTime } from "../../services/statements/statement-csv";
import { amountCell, sendCopyCsv, sendCsv } from "../../web/csv-response";
import { attachment, downloadName } from "../../web/download-name";
import { fields, inputRouter, optional } from "../../web/input";
import { dateRangeQuery } from "../../web/statement-filters";

const money = amountCell;
/** The reference date (the end of the month reconciled); today's when left out. */
const refDateInput = z.object({ ref_date: optional(fields.date("Reference date")) });

export function reconciliationRoutes(deps: { payments: Payments }) {
  // Every page and download here only reads: through DATABASE_READ_URL when it is set.
  const p = forReading(deps.payments);
  const r = inputRouter();
  const view = requireGlobal("VIEW");
  const refDate = (input: { ref_date?: string }) => parseReferenceDate(input.ref_date ?? "", p.timeZone);

  r.get("/payments/admin-stripe-rec", { guard: view, query: refDateInput }, async (_req, res, { query }) => {
    const [summary, payables] = await Promise.all([reconciliationSummary(p, refDate(query)), unpaidPayables(p)]);
    res.render("admin/reconciliation", { ...summary, payables });
  });

  const download = { guard: view, body: refDateInput };
  r.post("/payments/admin-stripe-rec-download", download, async (_req, res, { body }) => {
    const date = refDate(body);
    const lines = await reconciliationLines(p, date);
    await sendCsv(
      res,
      downloadName(["reconciliation", monthBefore(date), "to", date], "csv"),
      (function* () {
        yield ["Date", "Table", "Counterparty", "Reference", "Type", "Description", "Amount", "Balance"];
        for (const l of lines) {
          yield [
            localTime(l.at, p.timeZone),
            l.table,
            l.counterparty,
            l.reference,
            l.type,
            l.description,
            money(l.amountCents),
            money(l.balanceCents),
          ];
        }
      })(),
    );
  });

  r.post("/payments/admin-stripe-rec-download-member", download, async (_req, res, { body }) => {
    const date = refDate(body);
    const rows = (await balancesAt(p, date)).filter((b) => b.kind === "MEMBER");
    await sendCsv(
      res,
      downloadName(["member-balances", date], "csv"),
      (function* () {
        yield ["ABF Number", "First Name", "Last Name", "Balance"];
        for (const b of rows) yield [b.number, b.firstName, b.lastName, money(b.balanceCents)];
      })(),
    );
  });

  r.post("/payments/admin-stripe-rec-download-org", download, async (_req, res, { body }) => {
    const date = refDate(body);
    const rows = (await balancesAt(p, date)).filter((b) => b.kind === "ORGANISATION");
    await sendCsv(
      res,
      downloadName(["organisation-balances", date], "csv"),
      (function* () {
        yield ["Organisation", "ABF Org Number", "Balance"];
        for (const b of rows) yield [b.name, b.number, money(b.balanceCents)];
      })(),
    );
  });

  const movementQuery = dateRangeQuery.and(z.object({ format: optional(fields.oneOf("Format", ["csv", "xlsx"])) }));
  r.get(
    "/payments/organisation-movement-report",
    { guard: view, query: movementQuery },
    async (req, res, { query }) => {
      const d = previousMonth(p.timeZone);
      const [from, to] = [query.from ?? d.from, query.to ?? d.to];
      if (query.format === "csv") {
        return sendCopyCsv(
          req,
          res,
          p.pool,
          downloadName(["organisation-movement", from, "to", to], "csv"),
          movementCsvQuery(from, to, p.timeZone),
        );
      }
      const report = await movementReport(p, from, to);
      const head = ["Club No.", "Organisation", ...MOVEMENT_COLUMNS.map(([, label]) => label)];
      if (query.format === "xlsx") {
        const book = new ExcelJS.Workbook();
        const sheet = book.addWorksheet("Movements");
        sheet.addRow(head).font = { bold: true };
        // Whole cents become a numeric cell in dollars for the spreadsheet; the text of the amount is exact.
        const cell = (c: bigint) => Number(plainAmount(c));
        for (const row of report.rows)
          sheet.addRow([row.clubNumber, row.name, ...MOVEMENT_COLUMNS.map(([k]) => cell(row[k]))]);
        sheet.addRow(["", "Total", ...MOVEMENT_COLUMNS.map(([k]) => cell(report.totals[k]))]).font = { bold: true };
        for (let i = 3; i <= head.length; i++) sheet.getColumn(i).numFmt = "#,##0.00;[Red]-#,##0.00";
        sheet.getColumn(2).width = 32;
        res.setHeader("Content-Type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet");
        attachment(res, downloadName(["organisation-movement", report.from, "to", report.to], "xlsx"));
        res.send(Buffer.from(await book.xlsx.writeBuffer()));
        return;
      }
      res.render("admin/movement-report", { ...report, columns: MOVEMENT_COLUMNS });
    },
  );
  return r.router;
}
