// /payments/approvals: money moves above the thresholds wait here for a second finance editor (docs/audit.md).
// Finance viewers see the list; editors other than the requester approve or reject.
import type { Request, Response } from "express";
import { z } from "zod";
import { requireGlobal } from "../../auth/guards";
import { AppError } from "../../lib/errors";
import { approveRequest, rejectRequest } from "../../services/approvals/decide-approval";
import { listApprovals } from "../../services/approvals/list-approvals";
import type { Payments } from "../../services/payments/context";
import { auditActor } from "../../web/audit-actor";
import { flash } from "../../web/flash";
import { fields, inputRouter, optional } from "../../web/input";

const idParams = z.object({ id: fields.id("Approval request") });

export function approvalRoutes(deps: { payments: Payments }) {
  const p = deps.payments;
  const r = inputRouter();
  const edit = requireGlobal("EDIT");

  r.get("/payments/approvals", { guard: requireGlobal("VIEW") }, async (_req, res) => {
    res.setHeader("Cache-Control", "no-store");
    res.render("admin/approvals", await listApprovals(p.db));
  });

  /** A refusal (own request, expired, already decided) is a message on the list, never an error page. */
  const decided = async (req: Request, res: Response, fn: () => Promise<string>) => {
    try {
      flash(req, "success", await fn());
    } catch (e) {
      if (!(e instanceof AppError) || e.status >= 500) throw e;
      flash(req, "danger", e.message);
    }
    res.redirect("/payments/approvals");
  };

  r.post("/payments/approvals/:id/approve", { guard: edit, params: idParams }, async (req, res, { params }) => {
    await decided(req, res, async () => {
      const d = await approveRequest(p, params.id, auditActor(req));
      if (d.status === "failed")
        throw new AppError("BAD_INPUT", `Request ${params.id} could not be booked: ${d.reason}`);
      return `Request ${params.id} approved and booked.`;
    });
  });

  r.post(
    "/payments/approvals/:id/reject",
    { guard: edit, params: idParams, body: z.object({ note: optional(fields.text("Note", { max: 200 })) }) },
    async (req, res, { params, body }) => {
      await decided(req, res, async () => {
        await rejectRequest(p, params.id, auditActor(req), body.note?.trim() ?? "");
        return `Request ${params.id} rejected; nothing was booked.`;
      });
    },
  );
  return r.router;
}
