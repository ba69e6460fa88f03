// Finance reports and card payments (reference §2 rows 11–13, 32; §3.9, §3.15, §3.17), and the Stripe webhook
// inbox. Viewing needs global payments view; refunds and re-applying events need edit.
import { randomUUID } from "node:crypto";
import { type Request, Router } from "express";
import { requireGlobal } from "../../auth/guards";
import { AppError, notFound } from "../../lib/errors";
import { formatMoney, parseAmount, plainAmount } from "../../lib/money";
import { adminRefund, adminRefundQuote } from "../../services/cards/card-refunds";
import { listStripeEvents, reapplyStripeEvent } from "../../services/cards/stripe-webhook";
import { adjustmentReport, REPORT_TYPES, reportType } from "../../services/finance/adjustment-reports";
import { cardPaymentDetail, listCardPayments } from "../../services/finance/card-payments-admin";
import type { Payments } from "../../services/payments/context";
import { parseStatementQuery } from "../../services/statements/member-statement";
import { localTime } from "../../services/statements/statement-csv";
import { amountCell, sendCsv } from "../../web/csv-response";
import { downloadName, periodParts } from "../../web/download-name";
import { flash } from "../../web/flash";
import { formRequestId } from "../../web/request-id";

const idParam = (req: Request) => (/^\d{1,9}$/.test(String(req.params.id)) ? Number(req.params.id) : -1);
const amount = amountCell;

/** A date range from the query (YYYY-MM-DD), checked like the statement's; the last 30 days by default. */
function dateRange(req: Request, defaultDays: number | null) {
  const q = parseStatementQuery({ from: req.query.from ?? "", to: req.query.to ?? "" });
  if (defaultDays === null || q.from || q.to) return { from: q.from, to: q.to };
  const today = new Date();
  const from = new Date(today.getTime() - defaultDays * 86_400_000);
  return { from: from.toISOString().slice(0, 10), to: today.toISOString().slice(0, 10) };
}

export function reportAndCardRoutes(deps: { payments: Payments }) {
  const p = deps.payments;
  const r = Router();
  const view = requireGlobal("VIEW");
  const edit = requireGlobal("EDIT");

  r.get("/payments/admin-view-specific-transactions/:type", ...view, async (req, res) => {
    let type: ReturnType<typeof reportType>;
    try {
      type = reportType(String(req.params.type));
    } catch (e) {
      return res
        .status(400)
        .type("text")
        .send((e as Error).message);
    }
    const { from, to } = dateRange(req, 30) as { from: string; to: string };
    const report = await adjustmentReport(p, type, from, to);
    if (req.query.format !== "csv") {
      return res.render("admin/adjustment-report", { type, label: REPORT_TYPES[type], from, to, report });
    }
    // One table, header first: the member and organisation lines of the original's two sections in booking
    // order, each leaving the other's columns empty, so the file sorts and imports as it is.
    await sendCsv(
      res,
      downloadName([REPORT_TYPES[type], "report", from, "to", to], "csv"),
      (function* () {
        yield [
          "Date",
          "Administrator",
          "Transaction Type",
          "ABF Number",
          "User",
          "Club ID",
          "Organisation",
          "Description",
          "Amount",
          "Payment",
          "Fee (gross)",
          "GST",
        ];
        for (const l of report.lines) {
          yield [
            localTime(l.createdAt, p.timeZone),
            l.administrator,
            l.type,
            l.systemNumber,
            l.member,
            l.clubNumber,
            l.organisation,
            l.description,
            amount(l.amountCents),
            amount(l.paymentCents),
            amount(l.feeCents),
            amount(l.gstCents),
          ];
        }
      })(),
    );
  });

  r.get("/payments/admin-view-stripe-transactions", ...view, async (req, res) => {
    const { from, to } = dateRange(req, null);
    const page = /^\d{1,6}$/.test(String(req.query.page ?? "")) ? Math.max(1, Number(req.query.page)) : 1;
    if (req.query.format !== "csv") {
      const list = await listCardPayments(p, { from, to, page });
      return res.render("admin/card-payments", { ...list, page, from, to });
    }
    const list = await listCardPayments(p, { from, to, all: true });
    await sendCsv(
      res,
      downloadName(["card-payments", ...periodParts(from, to, p.timeZone)], "csv"),
      (function* () {
        yield [
          "Date",
          "Status",
          "Member",
          "Amount",
          "Refund Amount",
          "Expected Settlement Amount",
          "Description",
          "stripe_reference",
          "stripe_exp_month",
          "stripe_exp_year",
          "stripe_last4",
          "linked_organisation",
          "linked_member",
          "linked_transaction_type",
          "linked_amount",
          "stripe_receipt_url",
        ];
        for (const c of list.rows) {
          yield [
            localTime(c.createdAt, p.timeZone),
            c.status,
            c.user ? `${c.user.firstName} ${c.user.lastName} (${c.user.systemNumber})` : "",
            amount(c.amountCents),
            amount(c.refundedCents),
            amount(c.expectedSettlementCents),
            c.description,
            c.stripeChargeId,
            c.cardExpMonth,
            c.cardExpYear,
            c.cardLast4,
            c.linkedOrganisationId,
            c.linkedUserId,
            c.linkedType,
            amount(c.linkedAmountCents),
            c.receiptUrl,
          ];
        }
      })(),
    );
  });

  r.get("/payments/admin-view-stripe-transaction-detail/:id", ...view, async (req, res) => {
    const detail = await cardPaymentDetail(p, idParam(req));
    if (!detail) throw notFound("That card payment does not exist.");
    res.render("admin/card-payment-detail", detail);
  });

  const refundPage = async (
    req: Request,
    form: { amount: string; description: string },
    error?: string,
    quote?: unknown,
  ) => {
    const detail = await cardPaymentDetail(p, idParam(req));
    if (!detail) throw notFound("That card payment does not exist.");
    const left = detail.card.amountCents - detail.card.refundedCents;
    return {
      ...detail,
      left,
      requestId: randomUUID(),
      form: {
        amount: form.amount || plainAmount(left),
        description: form.description || "Card Refund",
      },
      error,
      quote,
    };
  };

  r.get("/payments/admin-refund-stripe-transaction/:id", ...edit, async (req, res) => {
    res.render("admin/card-refund", await refundPage(req, { amount: "", description: "" }));
  });

  r.post("/payments/admin-refund-stripe-transaction/:id", ...edit, async (req, res) => {
    const form = { amount: String(req.body?.amount ?? ""), description: String(req.body?.description ?? "") };
    try {
      const cents = parseAmount(form.amount, "Amount");
      if (req.body?.step !== "confirm") {
        const quote = await adminRefundQuote(p, req.user!.id, idParam(req), cents);
        const member = await p.db.user.findUniqueOrThrow({
          where: { id: quote.userId },
          select: { firstName: true, lastName: true },
        });
        return res.render(
          "admin/card-refund",
          await refundPage(req, form, undefined, { ...quote, member: `${member.firstName} ${member.lastName}` }),
        );
      }
      const requestId = formRequestId(req.body?.request_id);
      const result = await adminRefund(p, {
        adminUserId: req.user!.id,
        cardPaymentId: idParam(req),
        amountCents: cents,
        description: form.description,
        requestKey: `admin-refund:${req.user!.id}:${requestId}`,
      });
      req.log.info(
        { actor: req.user!.id, cardPaymentId: idParam(req), refundId: result.refundId },
        "admin card refund",
      );
      flash(
        req,
        "success",
        `Refund Successful. Paid ${formatMoney(result.quote.cardAmountCents)} to the member's card`,
      );
      res.redirect("/payments/admin-view-stripe-transactions");
    } catch (e) {
      if (!(e instanceof AppError) || e.status >= 500) throw e;
      res.status(400).render("admin/card-refund", await refundPage(req, form, e.message));
    }
  });

  r.get("/payments/admin-stripe-events", ...view, async (req, res) => {
    const failedOnly = req.query.failed === "1";
    res.render("admin/stripe-events", { events: await listStripeEvents(p, { failedOnly }), failedOnly });
  });
  r.get("/payments/admin-stripe-events/:eventId", ...view, async (req, res) => {
    const event = await p.db.stripeEvent.findUnique({ where: { id: String(req.params.eventId) } });
    if (!event) throw notFound("No such event.");
    res.render("admin/stripe-event", { event, json: JSON.stringify(event.payload, null, 2) });
  });
  r.post("/payments/admin-stripe-events/:eventId/reapply", ...edit, async (req, res) => {
    const id = String(req.params.eventId);
    const outcome = await reapplyStripeEvent(p, id);
    req.log.info({ actor: req.user!.id, eventId: id, outcome }, "stripe event re-applied by finance");
    flash(req, "info", outcome);
    res.redirect(`/payments/admin-stripe-events/${encodeURIComponent(id)}`);
  });
  return r;
}
