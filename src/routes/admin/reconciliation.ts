// Reconciliation (reference §2 rows 46–49, §3.17) and the organisation movement report (row 37, §3.18).
// Global payments view. Downloads are CSV, and XLSX for the movement report.

import ExcelJS from "exceljs";
import { type Request, Router } from "express";
import { requireGlobal } from "../../auth/guards";
import { badInput } from "../../lib/errors";
import { plainAmount } from "../../lib/money";
import type { Payments } from "../../services/payments/context";
import { MOVEMENT_COLUMNS, movementReport, previousMonth } from "../../services/settlement/movement-report";
import {
  balancesAt,
  monthBefore,
  reconciliationLines,
  reconciliationSummary,
} from "../../services/settlement/reconciliation";
import { parseReferenceDate } from "../../services/settlement/settlement";
import { localTime } from "../../services/statements/statement-csv";
import { amountCell, sendCsv } from "../../web/csv-response";
import { attachment, downloadName } from "../../web/download-name";

const money = amountCell;
const isoDate = (v: unknown, fallback: string) => {
  const s = String(v ?? "");
  if (s === "") return fallback;
  if (!/^\d{4}-\d{2}-\d{2}$/.test(s) || Number.isNaN(Date.parse(`${s}T00:00:00Z`))) {
    throw badInput("Dates are in the form YYYY-MM-DD.");
  }
  return s;
};

export function reconciliationRoutes(deps: { payments: Payments }) {
  const p = deps.payments;
  const r = Router();
  const view = requireGlobal("VIEW");
  const refDate = (req: Request) => parseReferenceDate(req.body?.ref_date ?? req.query.ref_date, p.timeZone);

  r.get("/payments/admin-stripe-rec", ...view, async (req, res) => {
    res.render("admin/reconciliation", await reconciliationSummary(p, refDate(req)));
  });

  r.post("/payments/admin-stripe-rec-download", ...view, async (req, res) => {
    const date = refDate(req);
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

  r.post("/payments/admin-stripe-rec-download-member", ...view, async (req, res) => {
    const date = refDate(req);
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

  r.post("/payments/admin-stripe-rec-download-org", ...view, async (req, res) => {
    const date = refDate(req);
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

  r.get("/payments/organisation-movement-report", ...view, async (req, res) => {
    const d = previousMonth(p.timeZone);
    const report = await movementReport(p, isoDate(req.query.from, d.from), isoDate(req.query.to, d.to));
    const head = ["Club No.", "Organisation", ...MOVEMENT_COLUMNS.map(([, label]) => label)];
    if (req.query.format === "csv") {
      return sendCsv(
        res,
        downloadName(["organisation-movement", report.from, "to", report.to], "csv"),
        (function* () {
          yield head;
          for (const row of report.rows)
            yield [row.clubNumber, row.name, ...MOVEMENT_COLUMNS.map(([k]) => money(row[k]))];
          yield ["", "Total", ...MOVEMENT_COLUMNS.map(([k]) => money(report.totals[k]))];
        })(),
      );
    }
    if (req.query.format === "xlsx") {
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
  });
  return r;
}
