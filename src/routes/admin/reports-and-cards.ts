// Finance reports and card payments (reference §2 rows 11–13, 32; §3.9, §3.15, §3.17), and the Stripe webhook
// inbox. Viewing needs global payments view; refunds and re-applying events need edit.
import { randomUUID } from "node:crypto";
import type { Request, Response } from "express";
import { z } from "zod";
import { requireGlobal } from "../../auth/guards";
import { AppError, badInput, notFound } from "../../lib/errors";
import { formatMoney, plainAmount } from "../../lib/money";
import { needsApproval } from "../../services/approvals/request-approval";
import { adminRefund, adminRefundQuote } from "../../services/cards/card-refunds";
import { listStripeEvents, reapplyStripeEvent } from "../../services/cards/stripe-webhook";
import { adjustmentReport, REPORT_TYPES, reportType } from "../../services/finance/adjustment-reports";
import { cardPaymentDetail, listCardPayments } from "../../services/finance/card-payments-admin";
import { forReading, type Payments } from "../../services/payments/context";
import { localTime } from "../../services/statements/statement-csv";
import { amountCell, sendCsv } from "../../web/csv-response";
import { downloadName, periodParts } from "../../web/download-name";
import { auditActor, recordExport } from "../../web/audit-actor";
import { flash } from "../../web/flash";
import { fields, formValues, inputRouter, optional } from "../../web/input";
import { dateRangeQuery } from "../../web/statement-filters";
import { sendForApproval } from "./send-for-approval";

const amount = amountCell;
const cardId = fields.id("Card payment");
const idParams = { params: z.object({ id: cardId }) };
const eventParams = { params: z.object({ eventId: fields.text("Event id", { max: 255 }) }) };
const csvFormat = optional(fields.oneOf("Format", ["csv"]));

/** The date range asked for, or the last `defaultDays` days when none was. */
function dateRange(q: { from?: string; to?: string }, defaultDays: number | null) {
  if (defaultDays === null || q.from || q.to) return { from: q.from, to: q.to };
  const today = new Date();
  const from = new Date(today.getTime() - defaultDays * 86_400_000);
  return { from: from.toISOString().slice(0, 10), to: today.toISOString().slice(0, 10) };
}

export function reportAndCardRoutes(deps: { payments: Payments }) {
  const p = deps.payments;
  const rp = forReading(p); // reports and lists through DATABASE_READ_URL when it is set
  const r = inputRouter();
  const view = requireGlobal("VIEW");
  const edit = requireGlobal("EDIT");

  r.get(
    "/payments/admin-view-specific-transactions/:type",
    {
      guard: view,
      params: z.object({ type: fields.text("Report type", { max: 40 }) }),
      query: dateRangeQuery.and(z.object({ format: csvFormat })),
    },
    async (req, res, { params, query }) => {
      let type: ReturnType<typeof reportType>;
      try {
        type = reportType(params.type);
      } catch (e) {
        return res
          .status(400)
          .type("text")
          .send((e as Error).message);
      }
      const { from, to } = dateRange(query, 30) as { from: string; to: string };
      const report = await adjustmentReport(rp, type, from, to);
      if (query.format !== "csv") {
        return res.render("admin/adjustment-report", { type, label: REPORT_TYPES[type], from, to, report });
      }
      // One table, header first: the member and organisation lines of the original's two sections in booking
      // order, each leaving the other's columns empty, so the file sorts and imports as it is.
      const file = downloadName([REPORT_TYPES[type], "report", from, "to", to], "csv");
      await recordExport(p.db, req, { file, targetType: "report", targetId: type, filters: { from, to } });
      await sendCsv(
        res,
        file,
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
    },
  );

  r.get(
    "/payments/admin-view-stripe-transactions",
    {
      guard: view,
      query: dateRangeQuery.and(z.object({ format: csvFormat, page: optional(fields.integer("Page", 999_999)) })),
    },
    async (req, res, { query }) => {
      const { from, to } = dateRange(query, null);
      const page = Math.max(1, query.page ?? 1);
      if (query.format !== "csv") {
        const list = await listCardPayments(rp, { from, to, page });
        return res.render("admin/card-payments", { ...list, page, from, to });
      }
      const list = await listCardPayments(rp, { from, to, all: true });
      const file = downloadName(["card-payments", ...periodParts(from, to, p.timeZone)], "csv");
      await recordExport(p.db, req, { file, targetType: "card_payments", targetId: "all", filters: { from, to } });
      await sendCsv(
        res,
        file,
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
    },
  );

  r.get(
    "/payments/admin-view-stripe-transaction-detail/:id",
    { guard: view, ...idParams },
    async (_req, res, { params }) => {
      const detail = await cardPaymentDetail(p, params.id);
      if (!detail) throw notFound("That card payment does not exist.");
      res.render("admin/card-payment-detail", detail);
    },
  );

  const refundPage = async (
    id: number,
    form: { amount: string; description: string },
    error?: string,
    quote?: unknown,
  ) => {
    const detail = await cardPaymentDetail(p, id);
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

  r.get(
    "/payments/admin-refund-stripe-transaction/:id",
    { guard: edit, ...idParams },
    async (_req, res, { params }) => {
      res.render("admin/card-refund", await refundPage(params.id, { amount: "", description: "" }));
    },
  );

  /** A refused refund form is shown again with what was typed (when the address names a card payment). */
  const refundRefused = async (req: Request, res: Response, message: string) => {
    const id = cardId.safeParse(req.params.id);
    if (!id.success) throw badInput(message);
    const form = formValues(req.body, ["amount", "description"]);
    res.status(400).render("admin/card-refund", await refundPage(id.data, form, message));
  };

  r.post(
    "/payments/admin-refund-stripe-transaction/:id",
    {
      guard: edit,
      ...idParams,
      body: z.object({
        amount: fields.amount("Amount"),
        description: optional(fields.text("Description", { max: 80 })),
        step: optional(fields.oneOf("Step", ["review", "confirm"])),
        request_id: fields.requestId(),
      }),
      invalid: refundRefused,
    },
    async (req, res, { params, body }) => {
      const id = params.id;
      const form = { amount: formValues(req.body, ["amount"]).amount, description: body.description ?? "" };
      try {
        const cents = body.amount;
        if (body.step !== "confirm") {
          const quote = await adminRefundQuote(p, req.user!.id, id, cents);
          const member = await p.db.user.findUniqueOrThrow({
            where: { id: quote.userId },
            select: { firstName: true, lastName: true },
          });
          return res.render(
            "admin/card-refund",
            await refundPage(id, form, undefined, { ...quote, member: `${member.firstName} ${member.lastName}` }),
          );
        }
        const requestKey = `admin-refund:${req.user!.id}:${body.request_id}`;
        if (await needsApproval(p.db, "move", cents)) {
          const quote = await adminRefundQuote(p, req.user!.id, id, cents); // refuse now what would be refused
          const description = form.description.trim() || "Card Refund";
          return await sendForApproval(p.db, req, res, {
            kind: "admin_refund",
            requestKey,
            summary: `Refund ${formatMoney(cents)} of card payment ${id} to the card of member ${quote.userId}: ${description}`,
            amountCents: cents,
            targetUserId: quote.userId,
            payload: { cardPaymentId: id, amountCents: String(cents), description },
          });
        }
        const result = await adminRefund(
          p,
          {
            adminUserId: req.user!.id,
            cardPaymentId: id,
            amountCents: cents,
            description: form.description,
            requestKey,
          },
          auditActor(req),
        );
        req.log.info({ actor: req.user!.id, cardPaymentId: id, refundId: result.refundId }, "admin card refund");
        flash(
          req,
          "success",
          `Refund Successful. Paid ${formatMoney(result.quote.cardAmountCents)} to the member's card`,
        );
        res.redirect("/payments/admin-view-stripe-transactions");
      } catch (e) {
        if (!(e instanceof AppError) || e.status >= 500) throw e;
        res.status(400).render("admin/card-refund", await refundPage(id, form, e.message));
      }
    },
  );

  r.get(
    "/payments/admin-stripe-events",
    { guard: view, query: z.object({ failed: optional(fields.oneOf("Failed only", ["0", "1"])) }) },
    async (_req, res, { query }) => {
      const failedOnly = query.failed === "1";
      res.render("admin/stripe-events", { events: await listStripeEvents(p, { failedOnly }), failedOnly });
    },
  );
  r.get("/payments/admin-stripe-events/:eventId", { guard: view, ...eventParams }, async (_req, res, { params }) => {
    const event = await p.db.stripeEvent.findUnique({ where: { id: params.eventId } });
    if (!event) throw notFound("No such event.");
    res.render("admin/stripe-event", { event, json: JSON.stringify(event.payload, null, 2) });
  });
  r.post(
    "/payments/admin-stripe-events/:eventId/reapply",
    { guard: edit, ...eventParams },
    async (req, res, { params }) => {
      const id = params.eventId;
      const outcome = await reapplyStripeEvent(p, id, auditActor(req));
      req.log.info({ actor: req.user!.id, eventId: id, outcome }, "stripe event re-applied by finance");
      flash(req, "info", outcome);
      res.redirect(`/payments/admin-stripe-events/${encodeURIComponent(id)}`);
    },
  );
  return r.router;
}
