// Payment settings (reference §2 rows 6–10, §7.3.8–10): global settings saved as a new version each time, their
// history, and per-club fee overrides. Global payments edit; deleting is a POST after a confirmation page.
import type { Request, Response } from "express";
import { z } from "zod";
import { requireGlobal } from "../../auth/guards";
import type { Db } from "../../db/client";
import { AppError, notFound } from "../../lib/errors";
import { formatAmount, formatPercent, plainAmount } from "../../lib/money";
import {
  addFeeOverride,
  deleteFeeOverride,
  listFeeOverrides,
  paymentSettingsHistory,
  SETTINGS_FIELDS,
  SETTINGS_LABELS,
  type SettingsForm,
  savePaymentSettings,
} from "../../services/finance/payment-settings";
import { activePaymentSettings } from "../../services/payments/settings";
import { auditActor } from "../../web/audit-actor";
import { flash } from "../../web/flash";
import { fields, formValues, inputRouter } from "../../web/input";

const idParams = { params: z.object({ id: fields.id("Override") }) };

// Each field is text here; the service parses percentages, dollars and weeks and checks the bank details.
const settingsBody = z.object(
  Object.fromEntries(SETTINGS_FIELDS.map((k) => [k, fields.text(SETTINGS_LABELS[k], { max: 100 })])) as Record<
    keyof SettingsForm,
    ReturnType<typeof fields.text>
  >,
);
const overrideBody = z.object({
  organisation: fields.id("Organisation"),
  fee: fields.text("Settlement fee", { max: 20 }),
});

export function paymentSettingsRoutes(deps: { db: Db }) {
  const r = inputRouter();
  const edit = requireGlobal("EDIT");

  const settingsPage = async (form?: SettingsForm, error?: string) => {
    const [current, history] = await Promise.all([activePaymentSettings(deps.db), paymentSettingsHistory(deps.db)]);
    return {
      current: history[0],
      error,
      form: form ?? {
        defaultOrgFee: formatPercent(current.defaultOrgFeePpm),
        stripeFixedFee: formatAmount(current.stripeFixedFeeCents),
        stripeFee: formatPercent(current.stripeFeePpm),
        refundFee: formatPercent(current.refundFeePpm),
        refundWindowWeeks: String(current.refundWindowWeeks),
        abaBankCode: current.abaBankCode ?? "",
        abaUserName: current.abaUserName,
        abaUserId: current.abaUserId ?? "",
        abaRemitterName: current.abaRemitterName,
        federationBsb: current.federationBsb
          ? `${current.federationBsb.slice(0, 3)}-${current.federationBsb.slice(3)}`
          : "",
        federationAccount: current.federationAccount ?? "",
        approvalThreshold: plainAmount(current.approvalThresholdCents),
        settlementApprovalThreshold: plainAmount(current.settlementApprovalThresholdCents),
      },
    };
  };

  r.get("/payments/admin-payments-static", { guard: edit }, async (_req, res) => {
    res.render("admin/payment-settings", await settingsPage());
  });

  const settingsRefused = async (req: Request, res: Response, message: string) => {
    res
      .status(400)
      .render("admin/payment-settings", await settingsPage(formValues(req.body, SETTINGS_FIELDS), message));
  };
  r.post(
    "/payments/admin-payments-static",
    { guard: edit, body: settingsBody, invalid: settingsRefused },
    async (req, res, { body }) => {
      const form: SettingsForm = body;
      try {
        await savePaymentSettings(deps.db, form, auditActor(req));
      } catch (e) {
        if (!(e instanceof AppError) || e.status >= 500) throw e;
        return res.status(400).render("admin/payment-settings", await settingsPage(form, e.message));
      }
      req.log.info({ actor: req.user!.id, form }, "payment settings changed");
      flash(req, "success", "Settings updated");
      res.redirect("/payments/statement-admin-summary");
    },
  );

  r.get("/payments/admin-payments-static-history", { guard: edit }, async (_req, res) => {
    res.render("admin/payment-settings-history", { rows: await paymentSettingsHistory(deps.db) });
  });

  r.get("/payments/admin-payments-static-org-override", { guard: edit }, async (_req, res) => {
    res.render("admin/fee-overrides", { rows: await listFeeOverrides(deps.db) });
  });

  const addPage = async (form: Record<string, string>, error?: string) => ({
    form,
    error,
    organisations: await deps.db.organisation.findMany({
      orderBy: { name: "asc" },
      select: { id: true, name: true, clubNumber: true },
    }),
  });
  r.get("/payments/admin-payments-static-org-override-add", { guard: edit }, async (_req, res) => {
    res.render("admin/fee-override-add", await addPage({}));
  });
  const overrideRefused = async (req: Request, res: Response, message: string) => {
    const form = formValues(req.body, ["organisation", "fee"]);
    res.status(400).render("admin/fee-override-add", await addPage(form, message));
  };
  r.post(
    "/payments/admin-payments-static-org-override-add",
    { guard: edit, body: overrideBody, invalid: overrideRefused },
    async (req, res, { body }) => {
      const form = formValues(req.body, ["organisation", "fee"]);
      try {
        await addFeeOverride(
          deps.db,
          {
            organisationId: body.organisation,
            fee: body.fee,
            actorUserId: req.user!.id,
          },
          auditActor(req),
        );
      } catch (e) {
        if (!(e instanceof AppError) || e.status >= 500) throw e;
        return res.status(400).render("admin/fee-override-add", await addPage(form, e.message));
      }
      flash(req, "success", "Entry added");
      res.redirect("/payments/admin-payments-static-org-override");
    },
  );

  r.get(
    "/payments/admin-payments-static-org-override-delete/:id",
    { guard: edit, ...idParams },
    async (_req, res, { params }) => {
      const row = await deps.db.organisationFeeOverride.findUnique({
        where: { id: params.id },
        include: { organisation: { select: { name: true } } },
      });
      if (!row) throw notFound("That override does not exist (already deleted?).");
      res.render("admin/fee-override-delete", { row });
    },
  );
  r.post(
    "/payments/admin-payments-static-org-override-delete/:id",
    { guard: edit, ...idParams },
    async (req, res, { params }) => {
      await deleteFeeOverride(deps.db, params.id, auditActor(req));
      flash(req, "success", "Entry deleted");
      res.redirect("/payments/admin-payments-static-org-override");
    },
  );
  return r.router;
}
