// A club's bank details and minimum balance after settlement (issue 19 item 4), finance editors only: the form,
// a confirmation showing old and new values, then the change (src/services/orgs/bank-details.ts). Each page sent
// by GET carries a fresh request id; a confirmation sent twice changes once.
import { randomUUID } from "node:crypto";
import type { Request, Response } from "express";
import { z } from "zod";
import { requireGlobal } from "../../auth/guards";
import { AppError } from "../../lib/errors";
import { plainAmount } from "../../lib/money";
import {
  bankChanges,
  changeBankDetails,
  currentBankDetails,
  previewBankChange,
} from "../../services/orgs/bank-details";
import type { Payments } from "../../services/payments/context";
import { auditActor } from "../../web/audit-actor";
import { flash } from "../../web/flash";
import { fields, formValues, inputRouter, optional } from "../../web/input";

const FORM_FIELDS = ["bsb", "account", "account_name", "min_balance", "request_id"] as const;
type FormValues = Partial<Record<(typeof FORM_FIELDS)[number], string>>;
const params = z.object({ orgId: fields.id("Organisation") });
const body = z.object({
  step: fields.oneOf("Step", ["review", "confirm"]),
  bsb: fields.text("BSB", { max: 20 }),
  account: fields.text("Account number", { max: 30 }),
  account_name: optional(fields.text("Account name", { max: 100 })),
  min_balance: fields.amount("Minimum balance"),
  request_id: fields.requestId(),
  seen: optional(fields.text("Reviewed details", { max: 64 })),
});

export function orgBankDetailsRoutes(deps: { payments: Payments }) {
  const p = deps.payments;
  const r = inputRouter();
  const guard = requireGlobal("EDIT");
  const ROUTE = "/payments/org-bank-details/:orgId";
  const path = (orgId: number) => `/payments/org-bank-details/${orgId}`;

  /** The form: the club's details now (or what was typed, after a refusal) and its history of changes. */
  const formPage = async (res: Response, orgId: number, form: FormValues | null, error?: string) => {
    const { org, details } = await currentBankDetails(p, orgId);
    const bsb = details.bsb ? `${details.bsb.slice(0, 3)}-${details.bsb.slice(3)}` : "";
    res.setHeader("Cache-Control", "no-store");
    res.status(error ? 400 : 200).render("admin/org-bank-details", {
      org,
      details,
      form: form ?? {
        bsb,
        account: details.account ?? "",
        account_name: details.accountName ?? "",
        min_balance: plainAmount(details.minBalanceCents),
      },
      requestId: form?.request_id || randomUUID(),
      history: await bankChanges(p.db, { organisationId: org.id }),
      error,
    });
  };

  r.get(ROUTE, { guard, params }, async (_req, res, { params }) => {
    await formPage(res, params.orgId, null);
  });

  const refused = async (req: Request, res: Response, message: string) => {
    const id = fields.id().safeParse(req.params.orgId);
    const form = formValues(req.body, FORM_FIELDS);
    const requestId = fields.requestId().safeParse(form.request_id);
    await formPage(
      res,
      id.success ? id.data : 0,
      { ...form, request_id: requestId.success ? requestId.data : "" },
      message,
    );
  };

  r.post(ROUTE, { guard, params, body, invalid: refused }, async (req, res, { params, body }) => {
    const request = {
      bsb: body.bsb,
      account: body.account,
      accountName: body.account_name ?? null,
      minBalanceCents: body.min_balance,
    };
    try {
      if (body.step === "review") {
        const preview = await previewBankChange(p, params.orgId, request);
        res.setHeader("Cache-Control", "no-store");
        return res.render("admin/org-bank-details-confirm", {
          ...preview,
          requestId: body.request_id,
          form: {
            bsb: preview.after.bsb ? `${preview.after.bsb.slice(0, 3)}-${preview.after.bsb.slice(3)}` : "",
            account: preview.after.account ?? "",
            account_name: preview.after.accountName ?? "",
            min_balance: plainAmount(preview.after.minBalanceCents),
          },
        });
      }
      const out = await changeBankDetails(p, {
        organisationId: params.orgId,
        request,
        requestKey: `web:${body.request_id}`,
        actorUserId: req.user!.id,
        source: "web",
        seen: body.seen ?? "",
        audit: auditActor(req),
      });
      flash(
        req,
        "success",
        out.replayed
          ? "This change was already made: nothing more was changed."
          : `Changed ${out.changes.map((c) => c.field).join(", ")}. The next settlement uses the new details; ${out.notified} officer(s) of the club were told.`,
      );
      res.redirect(path(params.orgId));
    } catch (e) {
      if (!(e instanceof AppError) || e.status >= 500 || e.status === 404) throw e;
      await refused(req, res, e.message);
    }
  });
  return r.router;
}
