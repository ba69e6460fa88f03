// Settlement (reference §2 rows 16, 18; §3.11; §7.3.3–6): the screen, the export, the confirmation, the bank
// file and the history. Global payments edit, except the history (view).
import { randomUUID } from "node:crypto";
import type { Request, Response } from "express";
import { z } from "zod";
import { requireGlobal } from "../../auth/guards";
import { AppError, notFound } from "../../lib/errors";
import { formatMoney, formatPercent } from "../../lib/money";
import { needsApproval } from "../../services/approvals/request-approval";
import type { Payments } from "../../services/payments/context";
import { activePaymentSettings } from "../../services/payments/settings";
import { recordDownload } from "../../services/settlement/batch-lifecycle";
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
import { auditActor, recordExport } from "../../web/audit-actor";
import { flash } from "../../web/flash";
import { fields, inputRouter, optional, textValues } from "../../web/input";
import { sendForApproval } from "./send-for-approval";

const money = amountCell;

const idOf = fields.id("Club");

/** The ticked clubs and their overrides, from the form (org_<id> = on, override_<id> = dollars). */
function selection(body: Record<string, unknown>, ctx: z.RefinementCtx): Selection[] {
  const out: Selection[] = [];
  for (const [k, v] of Object.entries(body)) {
    const m = /^org_(\w+)$/.exec(k);
    if (!m || v === undefined) continue;
    const id = idOf.safeParse(m[1]);
    const override = optional(fields.amount(`The override for club ${m[1]}`)).safeParse(body[`override_${m[1]}`]);
    const problems = [...(id.success ? [] : id.error.issues), ...(override.success ? [] : override.error.issues)];
    if (v !== "on")
      problems.push({ code: "custom", message: `The tick for club ${m[1]} is a checkbox.`, path: [], input: v });
    for (const issue of problems) ctx.addIssue({ code: "custom", message: issue.message });
    if (id.success && override.success) out.push({ organisationId: id.data, overrideCents: override.data ?? null });
  }
  return out;
}

const searchField = optional(fields.text("Search", { max: 100 }));
const settlementBody = z
  .looseObject({
    reference_date: optional(fields.date("Reference date")),
    action: optional(fields.oneOf("Action", ["export", "confirm"])),
    repeat: fields.checkbox("Repeat"),
    request_id: fields.requestId(),
    q: searchField,
  })
  .transform((b, ctx) => ({ ...b, selection: selection(b, ctx) }));

/** The ticked boxes of a form shown again after a refusal. */
const tickedIn = (form: Record<string, string>) =>
  new Set(
    Object.entries(form).flatMap(([k, v]) => {
      const m = /^org_(\d{1,9})$/.exec(k);
      return m && v === "on" ? [Number(m[1])] : [];
    }),
  );

export function settlementRoutes(deps: { payments: Payments }) {
  const p = deps.payments;
  const r = inputRouter();
  const edit = requireGlobal("EDIT");

  const screen = async (
    referenceDate: string,
    opts: { q?: string; form?: Record<string, string>; requestId?: string },
    error?: string,
  ) => {
    const q = (opts.q ?? "").trim().toLowerCase();
    const form = opts.form ?? {};
    const [all, settings] = await Promise.all([settlementCandidates(p, referenceDate), activePaymentSettings(p.db)]);
    const rows = q
      ? all.filter((c) => c.name.toLowerCase().includes(q) || c.clubNumber.toLowerCase().includes(q))
      : all;
    return {
      referenceDate,
      rows,
      q,
      error,
      ticked: tickedIn(form),
      form,
      totals: candidateTotals(all),
      bankFileProblem: directEntryProblem(settings),
      // A fresh one for each page sent by GET; a refused confirmation's page keeps the one it was sent.
      requestId: opts.requestId ?? randomUUID(),
      fee: formatPercent,
    };
  };

  const screenQuery = z.object({ reference_date: optional(fields.date("Reference date")), q: searchField });
  r.get(
    "/payments/settlement",
    {
      guard: edit,
      query: screenQuery,
      invalid: async (_req, res, message) => {
        res.status(400).render("admin/settlement", await screen(parseReferenceDate("", p.timeZone), {}, message));
      },
    },
    async (_req, res, { query }) => {
      const date = parseReferenceDate(query.reference_date ?? "", p.timeZone);
      // Never from the browser's cache: a page shown again by "Back" would carry a form already used.
      res.setHeader("Cache-Control", "no-store");
      res.render("admin/settlement", await screen(date, { q: query.q }));
    },
  );

  const refused = async (req: Request, res: Response, message: string) => {
    const form = textValues(req.body);
    const date = fields.date().safeParse(form.reference_date);
    const requestId = fields.requestId().safeParse(form.request_id);
    res
      .status(400)
      .render(
        "admin/settlement",
        await screen(
          date.success ? date.data : parseReferenceDate("", p.timeZone),
          { q: form.q, form, requestId: requestId.success ? requestId.data : undefined },
          message,
        ),
      );
  };

  r.post(
    "/payments/settlement",
    { guard: edit, body: settlementBody, invalid: refused },
    async (req, res, { body }) => {
      const date = parseReferenceDate(body.reference_date ?? "", p.timeZone);
      try {
        const chosen = body.selection;
        const repeat = body.repeat;
        if (body.action === "export") {
          const plan = await planSettlement(p, date, chosen, { repeat });
          // The plan for reference date D as it stood at the moment of the download.
          const file = downloadName(["settlements", date, "at", downloadStamp(p.timeZone)], "csv");
          const clubs = plan.map((s) => s.organisationId);
          await recordExport(p.db, req, { file, targetType: "settlement_plan", targetId: date, filters: { clubs } });
          return await sendCsv(
            res,
            file,
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
        const input = {
          referenceDate: date,
          selection: chosen,
          actorUserId: req.user!.id,
          requestKey: `settlement:${body.request_id}`,
          repeat,
        };
        // A plan that fails goes on to confirmSettlement, which answers a replay of this form or the same refusal.
        const plan = await planSettlement(p, date, chosen, { repeat }).catch(() => null);
        const gross = plan?.reduce((t, s) => t + s.grossCents, 0n) ?? 0n;
        if (plan && (await needsApproval(p.db, "settlement", gross))) {
          return await sendForApproval(p.db, req, res, {
            kind: "settlement_batch",
            requestKey: input.requestKey,
            summary: `Settle ${plan.length} club${plan.length === 1 ? "" : "s"} for ${date}: ${formatMoney(gross)} gross (${plan.map((s) => s.name).join(", ")})`,
            amountCents: gross,
            payload: {
              referenceDate: date,
              selection: chosen.map((c) => ({
                organisationId: c.organisationId,
                overrideCents: c.overrideCents == null ? null : String(c.overrideCents),
              })),
              repeat: !!repeat,
            },
          });
        }
        const batch = await confirmSettlement(p, input, auditActor(req));
        flash(
          req,
          "success",
          batch.replayed ? "This settlement was already confirmed." : "Settlement processed successfully.",
        );
        res.redirect(`/payments/settlement-complete/${batch.batchId}`);
      } catch (e) {
        if (!(e instanceof AppError) || e.status >= 500) throw e;
        await refused(req, res, e.message);
      }
    },
  );

  const batchParams = z.object({ id: fields.id("Settlement") });
  const batchOf = async (id: number) => {
    const batch = await p.db.settlementBatch.findUnique({
      where: { id },
      include: { settlements: { orderBy: { id: "asc" } } },
    });
    if (!batch) throw notFound("That settlement does not exist.");
    return batch;
  };

  r.get("/payments/settlement-complete/:id", { guard: edit, params: batchParams }, async (_req, res, { params }) => {
    res.render("admin/settlement-complete", { batch: await batchOf(params.id) });
  });

  r.get("/payments/settlement-bank-file/:id", { guard: edit, params: batchParams }, async (req, res, { params }) => {
    const batch = await batchOf(params.id);
    const file = downloadName(["settlement", batch.id, batch.referenceDate.toISOString().slice(0, 10)], "aba");
    // One audit row per download; the first also moves the batch on to "file downloaded", with who and when.
    const first = await recordDownload(p, batch.id, auditActor(req), file);
    req.log.info({ actor: req.user!.id, batchId: batch.id, first }, "settlement bank file downloaded");
    res.setHeader("Content-Type", "text/plain; charset=us-ascii");
    attachment(res, file);
    res.send(batch.abaFile);
  });

  r.get(
    "/payments/settlement-history",
    { guard: requireGlobal("VIEW"), query: z.object({ page: optional(fields.integer("Page", 999_999)) }) },
    async (_req, res, { query }) => {
      const page = Math.max(1, query.page ?? 1);
      res.render("admin/settlement-history", { ...(await settlementHistory(p, page)), page });
    },
  );
  return r.router;
}
