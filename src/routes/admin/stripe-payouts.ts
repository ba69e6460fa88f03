// /payments/stripe-payouts (issue 20, item 2): finance viewers see Stripe's payouts to the federation's bank with
// Stripe's actual fees beside what the fee settings expected. Editors can check the newest payouts with Stripe
// (a missed or failed webhook repaired); in emulator mode they can make the emulator pay out its balance now.
import { z } from "zod";
import { requireGlobal } from "../../auth/guards";
import { payOutAtEmulator } from "../../services/disputes/disputes-admin";
import type { Payments } from "../../services/payments/context";
import { checkPayoutsWithStripe, listPayouts } from "../../services/payouts/payout-events";
import { auditActor } from "../../web/audit-actor";
import { fields, inputRouter } from "../../web/input";
import { flashOutcome } from "./disputes";

export function stripePayoutRoutes(deps: { payments: Payments }) {
  const p = deps.payments;
  const r = inputRouter();
  const edit = requireGlobal("EDIT");

  r.get("/payments/stripe-payouts", { guard: requireGlobal("VIEW") }, async (_req, res) => {
    const payouts = await listPayouts(p);
    const sum = (f: (x: (typeof payouts)[number]) => bigint | null) => payouts.reduce((a, x) => a + (f(x) ?? 0n), 0n);
    res.render("admin/stripe-payouts", {
      payouts,
      totals: {
        fee: sum((x) => x.feeCents),
        expected: sum((x) => x.expectedFeeCents),
        difference: sum((x) => x.feeDifferenceCents),
      },
      emulator: p.gateway.emulator !== null,
    });
  });

  r.post("/payments/stripe-payouts/check", { guard: edit }, async (req, res) => {
    await flashOutcome(req, async () => {
      const lines = await checkPayoutsWithStripe(p, auditActor(req));
      return lines.length ? `Checked with Stripe: ${lines.join(" | ")}` : "Stripe has no payouts yet.";
    });
    req.log.info({ actor: req.user!.id }, "payouts checked with Stripe by finance");
    res.redirect("/payments/stripe-payouts");
  });

  // The button pressed says what the bank does with the payout (a demo of both outcomes).
  const payOut = { guard: edit, body: z.object({ action: fields.oneOf("Action", ["paid", "failed"]) }) };
  r.post("/payments/stripe-payouts/emulator/pay-out", payOut, async (req, res, { body }) => {
    await flashOutcome(req, async () => {
      const id = await payOutAtEmulator(p, body.action === "failed");
      return `The emulator paid out the available balance as ${id}; its events book it.`;
    });
    res.redirect("/payments/stripe-payouts");
  });
  return r.router;
}
