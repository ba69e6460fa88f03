// Settlement (reference §2 rows 16, 18; §3.11; §7.3.3–6): the screen, the export, the confirmation, the bank
// file and the history. Global payments edit, except the history (view).
import { randomUUID } from "node:crypto";
import { type Request, Router } from "express";
import { requireGlobal } from "../../auth/guards";
import { AppError, notFound } from "../../lib/errors";
import { formatPercent, parseAmount } from "../../lib/money";
import type { Payments } from "../../services/payments/context";
import { activePaymentSettings } from "../../services/payments/settings";
import { directEntryProblem } from "../../services/settlement/direct-entry";
import {
  candidateTotals,
  confirmSettlement,
  parseReferenceDate,
  planSettlement,
  type Selection,
  settlementCandidates,
  settlementHistory,
} from "../../services/settlement/settlement";
import { amountCell, raw, sendCsv } from "../../web/csv-response";
import { attachment, downloadName, downloadStamp } from "../../web/download-name";
import { flash } from "../../web/flash";
import { formRequestId } from "../../web/request-id";

const money = amountCell;

/** The ticked clubs and their overrides, from the form (org_<id> = on, override_<id> = dollars). */
function selection(body: Record<string, unknown>): Selection[] {
  const out: Selection[] = [];
  for (const [k, v] of Object.entries(body ?? {})) {
    const m = /^org_(\d{1,9})$/.exec(k);
    if (!m || v !== "on") continue;
    const override = String(body[`override_${m[1]}`] ?? "").trim();
    out.push({ organisationId: Number(m[1]), overrideCents: override ? parseAmount(override, "Override") : null });
  }
  return out;
}

export function settlementRoutes(deps: { payments: Payments }) {
  const p = deps.payments;
  const r = Router();
  const edit = requireGlobal("EDIT");

  // `requestId`: a fresh one for each page sent by GET; a refused confirmation's page keeps the one it was sent.
  const screen = async (req: Request, referenceDate: string, requestId: string, error?: string) => {
    const q = String(req.query.q ?? req.body?.q ?? "")
      .trim()
      .toLowerCase();
    const [all, settings] = await Promise.all([settlementCandidates(p, referenceDate), activePaymentSettings(p.db)]);
    const rows = q
      ? all.filter((c) => c.name.toLowerCase().includes(q) || c.clubNumber.toLowerCase().includes(q))
      : all;
    return {
      referenceDate,
      rows,
      q,
      error,
      ticked: new Set(selection(req.body ?? {}).map((s) => s.organisationId)),
      form: req.body ?? {},
      totals: candidateTotals(all),
      bankFileProblem: directEntryProblem(settings),
      requestId,
      fee: formatPercent,
    };
  };

  r.get("/payments/settlement", ...edit, async (req, res) => {
    let date: string;
    try {
      date = parseReferenceDate(req.query.reference_date, p.timeZone);
    } catch (e) {
      date = parseReferenceDate("", p.timeZone);
      return res.status(400).render("admin/settlement", await screen(req, date, randomUUID(), (e as Error).message));
    }
    // Never from the browser's cache: a page shown again by "Back" would carry a form already used.
    res.setHeader("Cache-Control", "no-store");
    res.render("admin/settlement", await screen(req, date, randomUUID()));
  });

  r.post("/payments/settlement", ...edit, async (req, res) => {
    const date = parseReferenceDate(req.body?.reference_date, p.timeZone);
    const requestId = formRequestId(req.body?.request_id);
    try {
      const chosen = selection(req.body);
      const repeat = req.body?.repeat === "on";
      if (req.body?.action === "export") {
        const plan = await planSettlement(p, date, chosen, { repeat });
        return await sendCsv(
          res,
          // The plan for reference date D as it stood at the moment of the download.
          downloadName(["settlements", date, "at", downloadStamp(p.timeZone)], "csv"),
          (function* () {
            // The original's header, typo included: spreadsheets that read it look for these names.
            yield [
              "CLub Number",
              "CLub Name",
              "BSB",
              "Account Number",
              "Gross Amount",
              "Minimum Balance",
              "Net Amount",
              "ABF fees %",
              "Settlement Amount",
            ];
            for (const s of plan) {
              yield [
                s.clubNumber,
                s.name,
                s.bsb,
                s.accountNumber,
                money(s.balanceCents),
                money(s.minimumCents),
                money(s.settleableCents),
                raw(formatPercent(s.feePpm)),
                money(s.settleNetCents),
              ];
            }
          })(),
        );
      }
      const batch = await confirmSettlement(p, {
        referenceDate: date,
        selection: chosen,
        actorUserId: req.user!.id,
        requestKey: `settlement:${requestId}`,
        repeat,
      });
      flash(
        req,
        "success",
        batch.replayed ? "This settlement was already confirmed." : "Settlement processed successfully.",
      );
      res.redirect(`/payments/settlement-complete/${batch.batchId}`);
    } catch (e) {
      if (!(e instanceof AppError) || e.status >= 500) throw e;
      res.status(400).render("admin/settlement", await screen(req, date, requestId, e.message));
    }
  });

  const batchOf = async (req: Request) => {
    const id = /^\d{1,9}$/.test(String(req.params.id)) ? Number(req.params.id) : -1;
    const batch = await p.db.settlementBatch.findUnique({
      where: { id },
      include: { settlements: { orderBy: { id: "asc" } } },
    });
    if (!batch) throw notFound("That settlement does not exist.");
    return batch;
  };

  r.get("/payments/settlement-complete/:id", ...edit, async (req, res) => {
    res.render("admin/settlement-complete", { batch: await batchOf(req) });
  });

  r.get("/payments/settlement-bank-file/:id", ...edit, async (req, res) => {
    const batch = await batchOf(req);
    req.log.info({ actor: req.user!.id, batchId: batch.id }, "settlement bank file downloaded");
    res.setHeader("Content-Type", "text/plain; charset=us-ascii");
    attachment(res, downloadName(["settlement", batch.id, batch.referenceDate.toISOString().slice(0, 10)], "aba"));
    res.send(batch.abaFile);
  });

  r.get("/payments/settlement-history", ...requireGlobal("VIEW"), async (req, res) => {
    const page = /^\d{1,6}$/.test(String(req.query.page ?? "")) ? Math.max(1, Number(req.query.page)) : 1;
    res.render("admin/settlement-history", { ...(await settlementHistory(p, page)), page });
  });
  return r;
}
