// What a member does with their credits (reference §2 rows 14, 27, 33, 35, 51): transfer to another member
// (with a member search), pay an IOU, refund a card top-up, choose the auto top-up amount, stop auto top-up.
// Every change is a POST with the CSRF token; every rule is checked in the service layer.
import { randomUUID } from "node:crypto";
import type { Request, Response } from "express";
import { z } from "zod";
import { requireLogin } from "../../auth/guards";
import { AppError, badInput } from "../../lib/errors";
import { formatMoney } from "../../lib/money";
import { memberRefund, memberRefundQuote } from "../../services/cards/card-refunds";
import { cancelAutoTopUp, setAutoTopUpAmount } from "../../services/payments/auto-topup-settings";
import { getBalance } from "../../services/payments/balances";
import type { Payments } from "../../services/payments/context";
import { payIouInteractive } from "../../services/payments/ious";
import { memberTransferInteractive } from "../../services/payments/member-transfer";
import { recentCounterparties, searchMembers } from "../../services/users/search-members";
import { flash } from "../../web/flash";
import { fields, formValues, inputRouter, optional } from "../../web/input";

const idParams = { params: z.object({ id: fields.id() }) };

/** Runs `fn`; a refusal (AppError) is shown by `onRefused`, anything else is a real error. */
async function refusable(res: Response, fn: () => Promise<void>, onRefused: (message: string) => Promise<void> | void) {
  try {
    await fn();
  } catch (e) {
    if (!(e instanceof AppError) || e.status >= 500 || res.headersSent) throw e;
    await onRefused(e.message);
  }
}

const TRANSFER_FIELDS = ["to", "abf", "amount", "description", "request_id"] as const;
type TransferForm = Record<(typeof TRANSFER_FIELDS)[number], string>;
const transferBody = z.object({
  to: optional(fields.id("Recipient")),
  abf: optional(fields.integer("ABF number")),
  amount: fields.amount("Amount"),
  description: fields.text("Description"),
  request_id: fields.requestId(),
});

/** A payment either went through (its message, then `paidUrl`) or needs the card: on to the checkout. */
function afterPayment(
  req: Request,
  res: Response,
  result: { kind: "paid"; message: string } | { kind: "checkout"; checkoutUrl: string },
  paidUrl: string,
) {
  if (result.kind !== "paid") return res.redirect(result.checkoutUrl);
  flash(req, "success", result.message);
  res.redirect(paidUrl);
}

export function memberActionRoutes(deps: { payments: Payments }) {
  const p = deps.payments;
  const r = inputRouter();

  const transferPage = async (req: Request, res: Response, form: Partial<TransferForm>, error?: string) => {
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
      requestId: form.request_id || randomUUID(),
    });
  };

  r.get("/payments/member-transfer", { guard: requireLogin }, (req, res) => transferPage(req, res, {}));

  r.get(
    "/payments/member-search",
    { guard: requireLogin, query: z.object({ q: optional(fields.text("Search", { max: 100 })) }) },
    async (req, res, { query }) => {
      const found = await searchMembers(p.db, query.q ?? "", req.user!.id);
      res.json(found.map((u) => ({ id: u.id, name: `${u.firstName} ${u.lastName}`, systemNumber: u.systemNumber })));
    },
  );

  r.post(
    "/payments/member-transfer",
    {
      guard: requireLogin,
      body: transferBody,
      invalid: (req, res, message) => transferPage(req, res, formValues(req.body, TRANSFER_FIELDS), message),
    },
    async (req, res, { body }) => {
      const user = req.user!;
      const form = formValues(req.body, TRANSFER_FIELDS);
      const requestId = body.request_id;
      form.request_id = requestId;
      await refusable(
        res,
        async () => {
          let toUserId = body.to ?? null;
          if (!toUserId && body.abf !== undefined) {
            toUserId =
              (await p.db.user.findUnique({ where: { systemNumber: body.abf }, select: { id: true } }))?.id ?? null;
            if (!toUserId) throw badInput(`No member has ABF number ${body.abf}.`);
          }
          if (!toUserId) throw badInput("Choose who to transfer to.");
          form.to = String(toUserId);
          const result = await memberTransferInteractive(p, {
            fromUserId: user.id,
            toUserId,
            amountCents: body.amount,
            description: body.description,
            idempotencyKey: `transfer:${user.id}:${requestId}`,
          });
          afterPayment(req, res, result, result.kind === "paid" ? result.nextUrl : "");
        },
        (message) => transferPage(req, res, form, message),
      );
    },
  );

  const backTo = (req: Request, res: Response, path: string) => (message: string) => {
    flash(req, "danger", message);
    res.redirect(path);
  };

  r.post(
    "/payments/pay-user-pending-payment/:id",
    { guard: requireLogin, ...idParams },
    async (req, res, { params }) => {
      await refusable(
        res,
        async () => {
          const result = await payIouInteractive(p, { iouId: params.id, payerUserId: req.user!.id });
          afterPayment(req, res, result, "/dashboard");
        },
        backTo(req, res, "/dashboard"),
      );
    },
  );

  r.get(
    "/payments/refund-stripe-transaction/:id",
    { guard: requireLogin, ...idParams },
    async (req, res, { params }) => {
      await refusable(
        res,
        async () => {
          const quote = await memberRefundQuote(p, req.user!.id, params.id);
          res.render("players/refund-confirm", { quote, feePercent: (quote.feePpm / 10_000).toString() });
        },
        backTo(req, res, "/payments/statement"),
      );
    },
  );

  r.post(
    "/payments/refund-stripe-transaction/:id",
    { guard: requireLogin, ...idParams },
    async (req, res, { params }) => {
      await refusable(
        res,
        async () => {
          const result = await memberRefund(p, req.user!.id, params.id);
          flash(req, "success", `${result.message}: ${formatMoney(result.quote.cardAmountCents)} to your card.`);
          res.redirect("/payments/statement");
        },
        backTo(req, res, "/payments/statement"),
      );
    },
  );

  const toSetup = (req: Request, res: Response, m: string) => backTo(req, res, "/payments/setup-autotopup")(m);
  r.post(
    "/payments/update-auto-amount",
    { guard: requireLogin, body: z.object({ amount: fields.amount("Amount") }), invalid: toSetup },
    async (req, res, { body }) => {
      await refusable(
        res,
        async () => {
          await setAutoTopUpAmount(p, req.user!.id, body.amount);
          flash(req, "success", "Auto top up amount updated.");
          res.redirect("/payments/setup-autotopup");
        },
        backTo(req, res, "/payments/setup-autotopup"),
      );
    },
  );

  r.get("/payments/cancel-autotopup", { guard: requireLogin }, async (req, res) => {
    res.render("players/cancel-autotopup", { balance: await getBalance(p, req.user!.id) });
  });

  r.post("/payments/cancel-autotopup", { guard: requireLogin }, async (req, res) => {
    await cancelAutoTopUp(p, req.user!.id);
    flash(req, "success", "Auto top up disabled");
    res.redirect("/payments/statement");
  });

  return r.router;
}
