// /payments/stripe-pending (reference §3.16): finance staff see card payments waiting for Stripe; editors can
// check one against Stripe (booking it if Stripe took the money) and reset abandoned card set-ups.
import { z } from "zod";
import { requireGlobal } from "../../auth/guards";
import { reconcileCardPayment, resetStaleCardSetups, stripePendingReport } from "../../services/cards/stripe-pending";
import type { Payments } from "../../services/payments/context";
import { auditActor } from "../../web/audit-actor";
import { flash } from "../../web/flash";
import { fields, inputRouter } from "../../web/input";

export function stripePendingRoutes(deps: { payments: Payments }) {
  const p = deps.payments;
  const r = inputRouter();
  r.get("/payments/stripe-pending", { guard: requireGlobal("VIEW") }, async (_req, res) => {
    res.render("admin/stripe-pending", await stripePendingReport(p));
  });
  const check = { guard: requireGlobal("EDIT"), params: z.object({ id: fields.id("Card payment") }) };
  r.post("/payments/stripe-pending/check/:id", check, async (req, res, { params: { id } }) => {
    const outcome = await reconcileCardPayment(p, id, auditActor(req));
    req.log.info({ actor: req.user!.id, cardPaymentId: id, outcome }, "card payment checked with Stripe by finance");
    flash(req, "info", `Card payment ${id}: ${outcome}`);
    res.redirect("/payments/stripe-pending");
  });
  r.post("/payments/stripe-pending/reset-setups", { guard: requireGlobal("EDIT") }, async (req, res) => {
    const n = await resetStaleCardSetups(p, auditActor(req));
    req.log.info({ actor: req.user!.id, reset: n }, "abandoned card set-ups reset by finance");
    flash(req, "info", n ? `Users with expired data updated (${n}).` : "No abandoned card set-ups.");
    res.redirect("/payments/stripe-pending");
  });
  return r.router;
}
