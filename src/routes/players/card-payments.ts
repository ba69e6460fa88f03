// The member's card pages and the browser's JSON calls (reference §2 rows 3, 4, 26, 34, 40–42): manual top-up,
// checkout, card set-up for auto top-up, and confirming a top-up the bank wants authenticated. State changes are
// POSTs with the CSRF token (decision 6); amounts come from our records, never from the browser.
import { randomUUID } from "node:crypto";
import { type Request, Router } from "express";
import { requireLogin } from "../../auth/guards";
import { formatMoney, parseAmount } from "../../lib/money";
import {
  autoTopUpOffForNewCard,
  autoTopUpPendingConfirmation,
  startCardSetup,
  topUpAwaitingAuthentication,
} from "../../services/cards/auto-topup-setup";
import {
  backLabel,
  checkoutMessage,
  createCheckoutIntent,
  markCheckoutConfirmedInBrowser,
  payableCheckout,
} from "../../services/cards/checkout";
import { manualTopUp } from "../../services/cards/manual-top-up";
import { getBalanceDetail } from "../../services/payments/balances";
import type { Payments } from "../../services/payments/context";
import { flash } from "../../web/flash";
import { formRequestId } from "../../web/request-id";

const idParam = (req: Request) => (/^\d{1,9}$/.test(String(req.params.id)) ? Number(req.params.id) : -1);

/** Where a checkout may send the member afterwards: only a path on this site. */
function safeNext(raw: unknown) {
  return typeof raw === "string" && /^\/(?!\/)[\w\-/?=&.%]*$/.test(raw) ? raw : null;
}

export function cardPaymentRoutes(deps: { payments: Payments }) {
  const p = deps.payments;
  const r = Router();

  const topUpPage = async (userId: number) => {
    const [balance, user] = await Promise.all([
      getBalanceDetail(p, userId),
      p.db.user.findUniqueOrThrow({ where: { id: userId }, select: { autoTopUpStatus: true } }),
    ]);
    return { balance, autoTopUpOn: user.autoTopUpStatus === "ON" };
  };

  r.get("/payments/manual-topup", requireLogin, async (req, res) => {
    res.render("players/manual-topup", { ...(await topUpPage(req.user!.id)), form: {}, requestId: randomUUID() });
  });

  r.post("/payments/manual-topup", requireLogin, async (req, res) => {
    const user = req.user!;
    const requestId = formRequestId(req.body?.request_id);
    const form = { amount: String(req.body?.amount ?? ""), cardChoice: String(req.body?.card_choice ?? "") };
    try {
      const done = await manualTopUp(p, {
        userId: user.id,
        amountCents: parseAmount(form.amount, "Amount"),
        registeredCard: form.cardChoice === "Existing",
        requestKey: `manual:${user.id}:${requestId}`,
      });
      if (done.via === "checkout") return res.redirect(`/payments/checkout/${done.cardPaymentId}`);
      flash(req, "success", done.message);
      return res.redirect("/payments/statement");
    } catch (e) {
      if (!(e instanceof Error) || !("code" in e) || e.code !== "BAD_INPUT") throw e;
      res
        .status(400)
        .render("players/manual-topup", { ...(await topUpPage(user.id)), form, requestId, error: e.message });
    }
  });

  r.get("/payments/checkout/:id", requireLogin, async (req, res) => {
    const user = req.user!;
    const card = await payableCheckout(p, user.id, idParam(req));
    const next = safeNext(req.query.next);
    const recipient = card.linkedUserId
      ? await p.db.user.findUnique({ where: { id: card.linkedUserId }, select: { firstName: true, lastName: true } })
      : null;
    const message = card.linkedType
      ? checkoutMessage({
          description: card.description,
          totalCents: card.linkedAmountCents ?? card.amountCents,
          balanceCents: (card.linkedAmountCents ?? card.amountCents) - card.amountCents,
          recipientName: recipient ? `${recipient.firstName} ${recipient.lastName}` : null,
        })
      : `${card.description} - Checkout`;
    res.render("players/checkout", {
      card,
      amount: formatMoney(card.amountCents),
      message,
      paid: !["INITIATED", "INTENT", "PENDING"].includes(card.status),
      next,
      backLabel: backLabel(next),
      stripe: p.gateway.browser,
    });
  });

  r.post("/payments/create-payment-intent", requireLogin, async (req, res) => {
    const id = Number(req.body?.id);
    if (!Number.isSafeInteger(id)) return res.status(400).json({ error: "Invalid payload" });
    try {
      res.json(await createCheckoutIntent(p, req.user!.id, id));
    } catch (e) {
      if (e instanceof Error && "status" in e && (e.status === 400 || e.status === 404)) {
        return res.status(400).json({ error: "Invalid payload", message: e.message });
      }
      throw e;
    }
  });

  r.post("/payments/stripe-webpage-confirm/:id", requireLogin, async (req, res) => {
    await markCheckoutConfirmedInBrowser(p, req.user!.id, idParam(req));
    res.json({ ok: true });
  });

  r.get("/payments/setup-autotopup", requireLogin, async (req, res) => {
    const user = req.user!;
    const full = await p.db.user.findUniqueOrThrow({ where: { id: user.id } });
    const current =
      full.autoTopUpStatus === "ON" && full.stripeCustomerId
        ? await p.gateway.defaultCard(full.stripeCustomerId).catch(() => null)
        : null;
    res.render("players/setup-autotopup", {
      balance: await getBalanceDetail(p, user.id),
      status: full.autoTopUpStatus,
      amount: formatMoney(full.autoTopUpAmountCents ?? 10_000n),
      current,
      stripe: p.gateway.browser,
    });
  });

  r.post("/payments/create-payment-superintent", requireLogin, async (req, res) => {
    res.json(await startCardSetup(p, req.user!.id));
  });
  r.post("/payments/stripe-autotopup-off", requireLogin, async (req, res) => {
    await autoTopUpOffForNewCard(p, req.user!.id);
    res.json({ ok: true });
  });
  r.post("/payments/stripe-autotopup-confirm", requireLogin, async (req, res) => {
    await autoTopUpPendingConfirmation(p, req.user!.id);
    res.json({ ok: true });
  });

  r.get("/payments/confirm-auto-topup/:id", requireLogin, async (req, res) => {
    const pending = await topUpAwaitingAuthentication(p, req.user!.id, idParam(req));
    res.render("players/confirm-topup", {
      ...pending,
      amount: formatMoney(pending.card.amountCents),
      stripe: p.gateway.browser,
    });
  });

  return r;
}
