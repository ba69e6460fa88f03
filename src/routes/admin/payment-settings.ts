// Payment settings (reference §2 rows 6–10, §7.3.8–10): global settings saved as a new version each time, their
// history, and per-club fee overrides. Global payments edit; deleting is a POST after a confirmation page.
import { type Request, Router } from "express";
import { requireGlobal } from "../../auth/guards";
import type { Db } from "../../db/client";
import { AppError, notFound } from "../../lib/errors";
import { formatAmount, formatPercent } from "../../lib/money";
import {
  addFeeOverride,
  deleteFeeOverride,
  listFeeOverrides,
  paymentSettingsHistory,
  SETTINGS_FIELDS,
  type SettingsForm,
  savePaymentSettings,
} from "../../services/finance/payment-settings";
import { activePaymentSettings } from "../../services/payments/settings";
import { flash } from "../../web/flash";

const idParam = (req: Request) => (/^\d{1,9}$/.test(String(req.params.id)) ? Number(req.params.id) : -1);

export function paymentSettingsRoutes(deps: { db: Db }) {
  const r = Router();
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
      },
    };
  };

  r.get("/payments/admin-payments-static", ...edit, async (_req, res) => {
    res.render("admin/payment-settings", await settingsPage());
  });

  r.post("/payments/admin-payments-static", ...edit, async (req, res) => {
    const b = req.body ?? {};
    const form = Object.fromEntries(SETTINGS_FIELDS.map((k) => [k, String(b[k] ?? "")])) as unknown as SettingsForm;
    try {
      await savePaymentSettings(deps.db, form, req.user!.id);
    } catch (e) {
      if (!(e instanceof AppError) || e.status >= 500) throw e;
      return res.status(400).render("admin/payment-settings", await settingsPage(form, e.message));
    }
    req.log.info({ actor: req.user!.id, form }, "payment settings changed");
    flash(req, "success", "Settings updated");
    res.redirect("/payments/statement-admin-summary");
  });

  r.get("/payments/admin-payments-static-history", ...edit, async (_req, res) => {
    res.render("admin/payment-settings-history", { rows: await paymentSettingsHistory(deps.db) });
  });

  r.get("/payments/admin-payments-static-org-override", ...edit, async (_req, res) => {
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
  r.get("/payments/admin-payments-static-org-override-add", ...edit, async (_req, res) => {
    res.render("admin/fee-override-add", await addPage({}));
  });
  r.post("/payments/admin-payments-static-org-override-add", ...edit, async (req, res) => {
    const form = { organisation: String(req.body?.organisation ?? ""), fee: String(req.body?.fee ?? "") };
    try {
      await addFeeOverride(deps.db, {
        organisationId: Number(form.organisation),
        fee: form.fee,
        actorUserId: req.user!.id,
      });
    } catch (e) {
      if (!(e instanceof AppError) || e.status >= 500) throw e;
      return res.status(400).render("admin/fee-override-add", await addPage(form, e.message));
    }
    flash(req, "success", "Entry added");
    res.redirect("/payments/admin-payments-static-org-override");
  });

  r.get("/payments/admin-payments-static-org-override-delete/:id", ...edit, async (req, res) => {
    const row = await deps.db.organisationFeeOverride.findUnique({
      where: { id: idParam(req) },
      include: { organisation: { select: { name: true } } },
    });
    if (!row) throw notFound("That override does not exist (already deleted?).");
    res.render("admin/fee-override-delete", { row });
  });
  r.post("/payments/admin-payments-static-org-override-delete/:id", ...edit, async (req, res) => {
    await deleteFeeOverride(deps.db, idParam(req));
    flash(req, "success", "Entry deleted");
    res.redirect("/payments/admin-payments-static-org-override");
  });
  return r;
}
