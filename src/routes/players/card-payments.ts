// The member's card pages and the browser's JSON calls (reference §2 rows 3, 4, 26, 34, 40–42): manual top-up,
// checkout, card set-up for auto top-up, and confirming a top-up the bank wants authenticated. State changes are
// POSTs with the CSRF token (decision 6); amounts come from our records, never from the browser.
import { randomUUID } from "node:crypto";
import { z } from "zod";
import type { Request, Response } from "express";
import { requireLogin } from "../../auth/guards";
import { formatMoney } from "../../lib/money";
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
import { accept, fields, formValues, inputRouter, optional } from "../../web/input";

const idParams = { params: z.object({ id: fields.id() }) };

/** Where a checkout may send the member afterwards: only a path on this site (anything else: no link back). */
function safeNext(raw: unknown) {
  return typeof raw === "string" && /^\/(?!\/)[\w\-/?=&.%]*$/.test(raw) ? raw : null;
}

const topUpBody = z.object({
  amount: fields.amount("Amount"),
  card_choice: optional(fields.oneOf("Card", ["Existing", "Another"])),
  request_id: fields.requestId(),
});

export function cardPaymentRoutes(deps: { payments: Payments }) {
  const p = deps.payments;
  const r = inputRouter();

  const topUpPage = async (userId: number) => {
    const [balance, user] = await Promise.all([
      getBalanceDetail(p, userId),
      p.db.user.findUniqueOrThrow({ where: { id: userId }, select: { autoTopUpStatus: true } }),
    ]);
    return { balance, autoTopUpOn: user.autoTopUpStatus === "ON" };
  };

  r.get("/payments/manual-topup", { guard: requireLogin }, async (req, res) => {
    res.render("players/manual-topup", { ...(await topUpPage(req.user!.id)), form: {}, requestId: randomUUID() });
  });

  const topUpRefused = async (req: Request, res: Response, message: string, requestId: string = randomUUID()) => {
    const raw = formValues(req.body, ["amount", "card_choice"]);
    const form = { amount: raw.amount, cardChoice: raw.card_choice };
    res
      .status(400)
      .render("players/manual-topup", { ...(await topUpPage(req.user!.id)), form, requestId, error: message });
  };

  r.post(
    "/payments/manual-topup",
    { guard: requireLogin, body: topUpBody, invalid: topUpRefused },
    async (req, res, { body }) => {
      const user = req.user!;
      const requestId = body.request_id;
      try {
        const done = await manualTopUp(p, {
          userId: user.id,
          amountCents: body.amount,
          registeredCard: body.card_choice === "Existing",
          requestKey: `manual:${user.id}:${requestId}`,
        });
        if (done.via === "checkout") return res.redirect(`/payments/checkout/${done.cardPaymentId}`);
        flash(req, "success", done.message);
        return res.redirect("/payments/statement");
      } catch (e) {
        if (!(e instanceof Error) || !("code" in e) || e.code !== "BAD_INPUT") throw e;
        await topUpRefused(req, res, e.message, requestId);
      }
    },
  );

  r.get(
    "/payments/checkout/:id",
    { guard: requireLogin, ...idParams, query: z.object({ next: accept(safeNext) }) },
    async (req, res, { params, query }) => {
      const user = req.user!;
      const card = await payableCheckout(p, user.id, params.id);
      const next = query.next;
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
    },
  );

  r.post(
    "/payments/create-payment-intent",
    { guard: requireLogin, body: z.object({ id: fields.id("Id") }) },
    async (req, res, { body }) => {
      try {
        res.json(await createCheckoutIntent(p, req.user!.id, body.id));
      } catch (e) {
        if (e instanceof Error && "status" in e && (e.status === 400 || e.status === 404)) {
          return res.status(400).json({ error: "Invalid payload", message: e.message });
        }
        throw e;
      }
    },
  );

  r.post("/payments/stripe-webpage-confirm/:id", { guard: requireLogin, ...idParams }, async (req, res, { params }) => {
    await markCheckoutConfirmedInBrowser(p, req.user!.id, params.id);
    res.json({ ok: true });
  });

  r.get("/payments/setup-autotopup", { guard: requireLogin }, async (req, res) => {
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

  r.post("/payments/create-payment-superintent", { guard: requireLogin }, async (req, res) => {
    res.json(await startCardSetup(p, req.user!.id));
  });
  r.post("/payments/stripe-autotopup-off", { guard: requireLogin }, async (req, res) => {
    await autoTopUpOffForNewCard(p, req.user!.id);
    res.json({ ok: true });
  });
  r.post("/payments/stripe-autotopup-confirm", { guard: requireLogin }, async (req, res) => {
    await autoTopUpPendingConfirmation(p, req.user!.id);
    res.json({ ok: true });
  });

  r.get("/payments/confirm-auto-topup/:id", { guard: requireLogin, ...idParams }, async (req, res, { params }) => {
    const pending = await topUpAwaitingAuthentication(p, req.user!.id, params.id);
    res.render("players/confirm-topup", {
      ...pending,
      amount: formatMoney(pending.card.amountCents),
      stripe: p.gateway.browser,
    });
  });

  return r.router;
}
