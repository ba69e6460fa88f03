// The accounting export (docs/accounting-export.md): the journal of a period and the settlement invoices as import
// files, and the chart-of-accounts mapping. Finance viewers see; exporting and changing the mapping is a finance
// editor's action (an export is recorded, so it is a POST with the form's request id).
import { randomUUID } from "node:crypto";
import type { Request, Response } from "express";
import { z } from "zod";
import { requireGlobal } from "../../auth/guards";
import { AppError, badInput } from "../../lib/errors";
import { type ExportKind, pastExports, recordExport } from "../../services/accounting/export-log";
import { generalLedgerRows, xeroInvoiceRows, xeroJournalRows } from "../../services/accounting/formats";
import { journal } from "../../services/accounting/journal";
import {
  ANY_TYPE,
  ledgerAccountLabel,
  ledgerAccounts,
  mappings,
  saveMapping,
} from "../../services/accounting/mappings";
import { settlementInvoices } from "../../services/accounting/settlement-invoices";
import { TRANSACTION_TYPES } from "../../services/ledger/transaction-types";
import type { Payments } from "../../services/payments/context";
import { previousMonth } from "../../services/settlement/movement-report";
import { sendCsv } from "../../web/csv-response";
import { auditActor } from "../../web/audit-actor";
import { downloadName } from "../../web/download-name";
import { flash } from "../../web/flash";
import { fields, inputRouter, optional, textValues } from "../../web/input";

/** What can be exported: its record kind, the file's name and Xero's per-file limit where Xero has one. */
const WHAT = {
  "xero-journal": { kind: "JOURNAL", name: "xero-manual-journal", limit: 300 },
  "gl-journal": { kind: "JOURNAL", name: "general-ledger", limit: null },
  "xero-bills": { kind: "BILLS", name: "xero-settlement-bills", limit: 500 },
  "xero-sales-invoices": { kind: "SALES_INVOICES", name: "xero-settlement-fee-invoices", limit: 500 },
} as const satisfies Record<string, { kind: ExportKind; name: string; limit: number | null }>;
type What = keyof typeof WHAT;

const period = { from: optional(fields.date("From")), to: optional(fields.date("To")) };
const exportBody = z.object({
  ...period,
  what: fields.oneOf("Export", Object.keys(WHAT) as What[]),
  request_id: fields.requestId(),
  reexport: fields.checkbox("Export again"),
});
const mappingBody = z.object({
  ledger_account: fields.text("Ledger account", { max: 60 }),
  transaction_type: fields.oneOf("Transaction type", [ANY_TYPE, ...TRANSACTION_TYPES]),
  account_code: fields.text("Account code", { max: 20 }),
  tax_rate_name: fields.text("Tax rate name", { max: 60 }),
  tax_percent: fields.percent("Tax rate (%)"),
});

export function accountingExportRoutes(deps: { payments: Payments }) {
  const p = deps.payments;
  const r = inputRouter();
  const view = requireGlobal("VIEW");
  const edit = requireGlobal("EDIT");
  const periodOf = (q: { from?: string; to?: string }) => {
    const d = previousMonth(p.timeZone);
    return { from: q.from ?? d.from, to: q.to ?? d.to };
  };

  const page = async (from: string, to: string, opts: { error?: string; requestId?: string } = {}) => {
    const [list, past] = await Promise.all([mappings(p), pastExports(p)]);
    let preview = null;
    let periodError: string | undefined;
    try {
      preview = await journal(p, from, to, list);
    } catch (e) {
      if (!(e instanceof AppError) || e.status >= 500) throw e;
      periodError = e.message;
    }
    return {
      from,
      to,
      preview,
      past,
      error: opts.error ?? periodError,
      label: ledgerAccountLabel,
      requestId: opts.requestId ?? randomUUID(),
      overlapping: past.filter((x) => x.from <= to && x.to >= from),
    };
  };

  r.get("/payments/accounting-export", { guard: view, query: z.object(period) }, async (_req, res, { query }) => {
    const { from, to } = periodOf(query);
    res.setHeader("Cache-Control", "no-store");
    res.render("admin/accounting-export", await page(from, to));
  });

  const refused = async (req: Request, res: Response, message: string) => {
    const form = textValues(req.body);
    const d = previousMonth(p.timeZone);
    const from = fields.date().safeParse(form.from);
    const to = fields.date().safeParse(form.to);
    const requestId = fields.requestId().safeParse(form.request_id);
    res.status(400).render(
      "admin/accounting-export",
      await page(from.success ? from.data : d.from, to.success ? to.data : d.to, {
        error: message,
        requestId: requestId.success ? requestId.data : undefined,
      }),
    );
  };

  r.post(
    "/payments/accounting-export",
    { guard: edit, body: exportBody, invalid: refused },
    async (req, res, { body }) => {
      const { from, to } = periodOf(body);
      const what = WHAT[body.what];
      try {
        const list = await mappings(p);
        let rows: Iterable<(string | { raw: string })[]>;
        let lineCount: number;
        let totalCents: bigint;
        if (what.kind === "JOURNAL") {
          const j = await journal(p, from, to, list);
          if (j.unmapped.length) {
            throw badInput(`No account code for ${j.unmapped.join(", ")}: map them on the mapping page first.`);
          }
          rows = body.what === "xero-journal" ? xeroJournalRows(j) : generalLedgerRows(j);
          [lineCount, totalCents] = [j.lineCount, j.debitCents];
        } else {
          const lines = await settlementInvoices(p, what.kind, from, to, list);
          rows = xeroInvoiceRows(lines);
          [lineCount, totalCents] = [lines.length, lines.reduce((a, l) => a + l.amountCents, 0n)];
        }
        if (lineCount === 0) throw badInput("Nothing to export for this period.");
        if (what.limit && lineCount > what.limit) {
          throw badInput(
            `Xero imports at most ${what.limit} lines per file; this has ${lineCount}: export a shorter period.`,
          );
        }
        await recordExport(p, {
          kind: what.kind,
          format: body.what,
          from,
          to,
          requestKey: `accounting-export:${body.request_id}`,
          reexport: body.reexport,
          lineCount,
          totalCents,
          actor: auditActor(req),
        });
        await sendCsv(res, downloadName([what.name, from, "to", to], "csv"), rows);
      } catch (e) {
        if (!(e instanceof AppError) || e.status >= 500) throw e;
        await refused(req, res, e.message);
      }
    },
  );

  const mappingPage = async (error?: string, form: Record<string, string> = {}) => {
    const [accounts, list] = await Promise.all([ledgerAccounts(p), mappings(p)]);
    const mapped = new Set(list.filter((m) => m.transactionType === ANY_TYPE).map((m) => m.ledgerAccount));
    return {
      accounts: accounts.map((a) => ({ key: a, label: ledgerAccountLabel(a), mapped: mapped.has(a) })),
      mappings: list,
      types: [ANY_TYPE, ...TRANSACTION_TYPES],
      label: ledgerAccountLabel,
      error,
      form,
    };
  };

  r.get("/payments/accounting-mapping", { guard: view }, async (_req, res) => {
    res.render("admin/accounting-mapping", await mappingPage());
  });

  const mappingRefused = async (req: Request, res: Response, message: string) => {
    res.status(400).render("admin/accounting-mapping", await mappingPage(message, textValues(req.body)));
  };
  r.post(
    "/payments/accounting-mapping",
    { guard: edit, body: mappingBody, invalid: mappingRefused },
    async (req, res, { body }) => {
      try {
        const m = await saveMapping(
          p,
          {
            ledgerAccount: body.ledger_account,
            transactionType: body.transaction_type,
            accountCode: body.account_code.trim(),
            taxRateName: body.tax_rate_name,
            taxPpm: body.tax_percent,
          },
          auditActor(req),
        );
        req.log.info({ actor: req.user!.id, mapping: m.id }, "accounting mapping saved");
        flash(req, "success", `${ledgerAccountLabel(m.ledgerAccount)} now maps to ${m.accountCode}.`);
        res.redirect("/payments/accounting-mapping");
      } catch (e) {
        if (!(e instanceof AppError) || e.status >= 500) throw e;
        await mappingRefused(req, res, e.message);
      }
    },
  );
  return r.router;
}
