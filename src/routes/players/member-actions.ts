// What a member does with their credits (reference §2 rows 14, 27, 33, 35, 51): transfer to another member
// (with a member search), pay an IOU, refund a card top-up, choose the auto top-up amount, stop auto top-up.
// Every change is a POST with the CSRF token; every rule is checked in the service layer.
import { randomUUID } from "node:crypto";
import { type Request, type Response, Router } from "express";
import { requireLogin } from "../../auth/guards";
import { AppError, badInput } from "../../lib/errors";
import { formatMoney, parseAmount } from "../../lib/money";
import { memberRefund, memberRefundQuote } from "../../services/cards/card-refunds";
import { cancelAutoTopUp, setAutoTopUpAmount } from "../../services/payments/auto-topup-settings";
import { getBalance } from "../../services/payments/balances";
import type { Payments } from "../../services/payments/context";
import { payIouInteractive } from "../../services/payments/ious";
import { memberTransferInteractive } from "../../services/payments/member-transfer";
import { recentCounterparties, searchMembers } from "../../services/users/search-members";
import { flash } from "../../web/flash";
import { formRequestId } from "../../web/request-id";

const idParam = (req: Request) => (/^\d{1,9}$/.test(String(req.params.id)) ? Number(req.params.id) : -1);

/** Runs `fn`; a refusal (AppError) is shown by `onRefused`, anything else is a real error. */
async function refusable(res: Response, fn: () => Promise<void>, onRefused: (message: string) => Promise<void> | void) {
  try {
    await fn();
  } catch (e) {
    if (!(e instanceof AppError) || e.status >= 500 || res.headersSent) throw e;
    await onRefused(e.message);
  }
}

export function memberActionRoutes(deps: { payments: Payments }) {
  const p = deps.payments;
  const r = Router();

  const transferPage = async (req: Request, res: Response, form: Record<string, string>, error?: string) => {
    const user = req.user!;
    const [balance, recent] = await Promise.all([getBalance(p, user.id), recentCounterparties(p.db, user.id)]);
    let recipient = null;
    if (/^\d{1,9}$/.test(form.to ?? "")) {
      recipient = await p.db.user.findUnique({
        where: { id: Number(form.to) },
        select: { id: true, firstName: true, lastName: true, systemNumber: true },
      });
    }
    res.status(error ? 400 : 200).render("players/member-transfer", {
      balance,
      recent,
      form,
      recipient,
      error,
      requestId: form.request_id ?? randomUUID(),
    });
  };

  r.get("/payments/member-transfer", requireLogin, (req, res) => transferPage(req, res, {}));

  r.get("/payments/member-search", requireLogin, async (req, res) => {
    const found = await searchMembers(p.db, String(req.query.q ?? ""), req.user!.id);
    res.json(found.map((u) => ({ id: u.id, name: `${u.firstName} ${u.lastName}`, systemNumber: u.systemNumber })));
  });

  r.post("/payments/member-transfer", requireLogin, async (req, res) => {
    const user = req.user!;
    const form = {
      to: String(req.body?.to ?? ""),
      abf: String(req.body?.abf ?? "").trim(),
      amount: String(req.body?.amount ?? ""),
      description: String(req.body?.description ?? ""),
      request_id: formRequestId(req.body?.request_id),
    };
    await refusable(
      res,
      async () => {
        let toUserId = /^\d{1,9}$/.test(form.to) ? Number(form.to) : null;
        if (!toUserId && /^\d{1,9}$/.test(form.abf)) {
          toUserId =
            (await p.db.user.findUnique({ where: { systemNumber: Number(form.abf) }, select: { id: true } }))?.id ??
            null;
          if (!toUserId) throw badInput(`No member has ABF number ${form.abf}.`);
        }
        if (!toUserId) throw badInput("Choose who to transfer to.");
        form.to = String(toUserId);
        const result = await memberTransferInteractive(p, {
          fromUserId: user.id,
          toUserId,
          amountCents: parseAmount(form.amount, "Amount"),
          description: form.description,
          idempotencyKey: `transfer:${user.id}:${form.request_id}`,
        });
        if (result.kind === "paid") {
          flash(req, "success", result.message);
          res.redirect(result.nextUrl);
        } else {
          res.redirect(result.checkoutUrl);
        }
      },
      (message) => transferPage(req, res, form, message),
    );
  });

  r.post("/payments/pay-user-pending-payment/:id", requireLogin, async (req, res) => {
    await refusable(
      res,
      async () => {
        const result = await payIouInteractive(p, { iouId: idParam(req), payerUserId: req.user!.id });
        if (result.kind === "paid") {
          flash(req, "success", result.message);
          res.redirect("/dashboard");
        } else {
          res.redirect(result.checkoutUrl);
        }
      },
      (message) => {
        flash(req, "danger", message);
        res.redirect("/dashboard");
      },
    );
  });

  r.get("/payments/refund-stripe-transaction/:id", requireLogin, async (req, res) => {
    await refusable(
      res,
      async () => {
        const quote = await memberRefundQuote(p, req.user!.id, idParam(req));
        res.render("players/refund-confirm", { quote, feePercent: (quote.feePpm / 10_000).toString() });
      },
      (message) => {
        flash(req, "danger", message);
        res.redirect("/payments/statement");
      },
    );
  });

  r.post("/payments/refund-stripe-transaction/:id", requireLogin, async (req, res) => {
    await refusable(
      res,
      async () => {
        const result = await memberRefund(p, req.user!.id, idParam(req));
        flash(req, "success", `${result.message}: ${formatMoney(result.quote.cardAmountCents)} to your card.`);
        res.redirect("/payments/statement");
      },
      (message) => {
        flash(req, "danger", message);
        res.redirect("/payments/statement");
      },
    );
  });

  r.post("/payments/update-auto-amount", requireLogin, async (req, res) => {
    await refusable(
      res,
      async () => {
        await setAutoTopUpAmount(p, req.user!.id, parseAmount(String(req.body?.amount ?? ""), "Amount"));
        flash(req, "success", "Auto top up amount updated.");
        res.redirect("/payments/setup-autotopup");
      },
      (message) => {
        flash(req, "danger", message);
        res.redirect("/payments/setup-autotopup");
      },
    );
  });

  r.get("/payments/cancel-autotopup", requireLogin, async (req, res) => {
    res.render("players/cancel-autotopup", { balance: await getBalance(p, req.user!.id) });
  });

  r.post("/payments/cancel-autotopup", requireLogin, async (req, res) => {
    await cancelAutoTopUp(p, req.user!.id);
    flash(req, "success", "Auto top up disabled");
    res.redirect("/payments/statement");
  });

  return r;
}
