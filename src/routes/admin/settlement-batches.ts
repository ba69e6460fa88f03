// A settlement batch's life after its confirmation (docs/settlement.md, "Lifecycle"): the batch page (finance
// view) and its confirmed steps (finance edit): marked submitted to the bank, marked paid, a line returned.
import { randomUUID } from "node:crypto";
import type { Request, Response } from "express";
import { z } from "zod";
import { requireGlobal } from "../../auth/guards";
import { AppError, badInput } from "../../lib/errors";
import type { Payments } from "../../services/payments/context";
import {
  batchDetail,
  markPaid,
  markSubmitted,
  returnLine,
  type StepOutcome,
} from "../../services/settlement/batch-lifecycle";
import { auditActor } from "../../web/audit-actor";
import { flash } from "../../web/flash";
import { fields, inputRouter, textValues } from "../../web/input";

const params = z.object({ id: fields.id("Settlement") });
const stepBody = z.object({ request_id: fields.requestId(), confirm: fields.checkbox("Confirm") });
const returnBody = z.object({
  request_id: fields.requestId(),
  confirm: fields.checkbox("Confirm"),
  settlement_id: fields.id("Settlement line"),
  reason: fields.text("The bank's reason", { max: 120 }).refine((t) => t.trim() !== "", "Give the bank's reason."),
});

export function settlementBatchRoutes(deps: { payments: Payments }) {
  const p = deps.payments;
  const r = inputRouter();
  const edit = requireGlobal("EDIT");

  /** The batch page; a refused step's page keeps that form's request id (so the corrected form acts once). */
  const page = async (id: number, opts: { error?: string; keep?: { form: string; requestId?: string } } = {}) => {
    const detail = await batchDetail(p, id);
    const fresh = (form: string) => (opts.keep?.form === form && opts.keep.requestId) || randomUUID();
    return {
      ...detail,
      error: opts.error,
      requestIds: {
        submitted: fresh("submitted"),
        paid: fresh("paid"),
        ...Object.fromEntries(detail.lines.map((l) => [`return-${l.id}`, fresh(`return-${l.id}`)])),
      },
    };
  };

  r.get("/payments/settlement-batch/:id", { guard: requireGlobal("VIEW"), params }, async (_req, res, { params }) => {
    // Never from the browser's cache: a page shown again by "Back" would carry forms already used.
    res.setHeader("Cache-Control", "no-store");
    res.render("admin/settlement-batch", await page(params.id));
  });

  const refused = (form: (req: Request) => string) => async (req: Request, res: Response, message: string) => {
    const id = fields.id().safeParse(req.params.id);
    if (!id.success) throw badInput("That settlement does not exist.");
    const requestId = fields.requestId().safeParse(textValues(req.body).request_id);
    res.status(400).render(
      "admin/settlement-batch",
      await page(id.data, {
        error: message,
        keep: { form: form(req), requestId: requestId.success ? requestId.data : undefined },
      }),
    );
  };

  /** Runs a confirmed step: an unticked "confirm" or a refusal shows the page again with the message. */
  const step = async (
    req: Request,
    res: Response,
    s: { id: number; form: string; confirmed: boolean; done: string; run: () => Promise<StepOutcome> },
  ) => {
    try {
      if (!s.confirmed) throw badInput("Tick the box to confirm.");
      const out = await s.run();
      flash(req, "success", out.replayed ? "This was already done: nothing more was changed." : s.done);
      res.redirect(`/payments/settlement-batch/${s.id}`);
    } catch (e) {
      if (!(e instanceof AppError) || e.status >= 500) throw e;
      await refused(() => s.form)(req, res, e.message);
    }
  };

  r.post(
    "/payments/settlement-batch/:id/submitted",
    { guard: edit, params, body: stepBody, invalid: refused(() => "submitted") },
    (req, res, { params, body }) =>
      step(req, res, {
        id: params.id,
        form: "submitted",
        confirmed: body.confirm,
        done: "Batch marked submitted to the bank.",
        run: () =>
          markSubmitted(p, {
            batchId: params.id,
            actor: auditActor(req),
            requestKey: `submitted:${body.request_id}`,
          }),
      }),
  );

  r.post(
    "/payments/settlement-batch/:id/paid",
    { guard: edit, params, body: stepBody, invalid: refused(() => "paid") },
    (req, res, { params, body }) =>
      step(req, res, {
        id: params.id,
        form: "paid",
        confirmed: body.confirm,
        done: "Batch marked paid: the payable is cleared into the federation's bank account.",
        run: () => markPaid(p, { batchId: params.id, actor: auditActor(req), requestKey: `paid:${body.request_id}` }),
      }),
  );

  const returnForm = (req: Request) => `return-${textValues(req.body).settlement_id ?? ""}`;
  r.post(
    "/payments/settlement-batch/:id/return",
    { guard: edit, params, body: returnBody, invalid: refused(returnForm) },
    (req, res, { params, body }) =>
      step(req, res, {
        id: params.id,
        form: `return-${body.settlement_id}`,
        confirmed: body.confirm,
        done: "The returned line is back on the club's account; the club is flagged to fix its bank details.",
        run: () =>
          returnLine(p, {
            batchId: params.id,
            settlementId: body.settlement_id,
            reason: body.reason.trim(),
            actor: auditActor(req),
            requestKey: `return:${body.request_id}`,
          }),
      }),
  );
  return r.router;
}
