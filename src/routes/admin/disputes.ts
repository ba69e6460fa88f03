// /payments/disputes (issue 20, item 3): finance viewers see every card dispute — status, reason, amount, evidence
// due date, what the ledger did — with a link to the card payment. Finance editors can check one with Stripe; in
// emulator mode they can also make the emulator open or decide a dispute, for demos.
import type { Request } from "express";
import { z } from "zod";
import { requireGlobal } from "../../auth/guards";
import { AppError } from "../../lib/errors";
import {
  checkDisputeWithStripe,
  closeDisputeAtEmulator,
  DISPUTE_REASONS,
  listDisputes,
  openDisputeAtEmulator,
} from "../../services/disputes/disputes-admin";
import type { Payments } from "../../services/payments/context";
import { auditActor } from "../../web/audit-actor";
import { flash } from "../../web/flash";
import { fields, inputRouter } from "../../web/input";

const disputeId = z.object({ id: z.string().regex(/^(dp|du)_[A-Za-z0-9]{1,64}$/, "That is not a dispute id.") });

/** Runs a finance action; a refusal is shown on the page it came from, not as an error page. */
export async function flashOutcome(req: Request, what: () => Promise<string>) {
  try {
    flash(req, "info", await what());
  } catch (e) {
    if (!(e instanceof AppError) || e.code !== "BAD_INPUT") throw e;
    flash(req, "danger", e.message);
  }
}

export function disputeRoutes(deps: { payments: Payments }) {
  const p = deps.payments;
  const r = inputRouter();
  const edit = requireGlobal("EDIT");

  r.get("/payments/disputes", { guard: requireGlobal("VIEW") }, async (_req, res) => {
    res.render("admin/disputes", {
      disputes: await listDisputes(p),
      emulator: p.gateway.emulator !== null,
      reasons: DISPUTE_REASONS,
    });
  });

  r.post("/payments/disputes/:id/check", { guard: edit, params: disputeId }, async (req, res, { params }) => {
    await flashOutcome(
      req,
      async () => `Dispute ${params.id}: ${await checkDisputeWithStripe(p, params.id, auditActor(req))}`,
    );
    req.log.info({ actor: req.user!.id, disputeId: params.id }, "dispute checked with Stripe by finance");
    res.redirect("/payments/disputes");
  });

  const open = {
    guard: edit,
    body: z.object({ card_payment_id: fields.id("Card payment"), reason: fields.oneOf("Reason", DISPUTE_REASONS) }),
  };
  r.post("/payments/disputes/emulator/open", open, async (req, res, { body }) => {
    await flashOutcome(req, async () => {
      const id = await openDisputeAtEmulator(p, body.card_payment_id, body.reason);
      return `The emulator opened dispute ${id} on card payment ${body.card_payment_id}; its events book it.`;
    });
    res.redirect("/payments/disputes");
  });

  const close = {
    guard: edit,
    params: disputeId,
    body: z.object({ outcome: fields.oneOf("Outcome", ["won", "lost"]) }),
  };
  r.post("/payments/disputes/emulator/:id/close", close, async (req, res, { params, body }) => {
    await flashOutcome(req, async () => {
      await closeDisputeAtEmulator(p, params.id, body.outcome);
      return `The emulator closed dispute ${params.id} as ${body.outcome}.`;
    });
    res.redirect("/payments/disputes");
  });
  return r.router;
}
