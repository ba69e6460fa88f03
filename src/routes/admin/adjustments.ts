// Manual adjustments of a member or a club, and a club settlement recorded by hand (reference §3.10; §2 rows
// 19–21). Global payments edit. Two steps: the form, then a confirmation showing the balance after; the
// confirmation carries a request id, so submitting it twice books once.
import { randomUUID } from "node:crypto";
import type { Request, Response } from "express";
import { z } from "zod";
import { requireGlobal } from "../../auth/guards";
import { AppError, badInput } from "../../lib/errors";
import { formatMoney } from "../../lib/money";
import type { Payments } from "../../services/payments/context";
import { needsApproval } from "../../services/approvals/request-approval";
import {
  adjustMemberBalance,
  adjustOrganisationBalance,
  checkManualSettlement,
  checkMemberAdjustment,
  checkOrganisationAdjustment,
  settlementSplit,
  settleOrganisationManually,
} from "../../services/payments/manual-adjustment";
import { auditActor } from "../../web/audit-actor";
import { flash } from "../../web/flash";
import { sendForApproval } from "./send-for-approval";
import { fields, formValues, inputRouter, optional } from "../../web/input";

async function refusable(res: Response, fn: () => Promise<void>, onRefused: (m: string) => Promise<void>) {
  try {
    await fn();
  } catch (e) {
    if (!(e instanceof AppError) || e.status >= 500 || res.headersSent) throw e;
    await onRefused(e.message);
  }
}

const MEMBER_FIELDS = ["member", "amount", "description", "request_id"] as const;
const ORG_FIELDS = ["organisation", "type", "amount", "description", "request_id"] as const;
const ORG_TYPES = ["Manual Adjustment", "Settlement"] as const;
const step = optional(fields.oneOf("Step", ["review", "confirm"]));
const reason = fields.text("Reason");

const memberBody = z.object({
  member: fields.integer("Member's ABF number"),
  amount: fields.signedAmount("Amount"),
  description: reason,
  request_id: fields.requestId(),
  step,
});
const orgBody = z.object({
  organisation: fields.id("Organisation"),
  type: fields.oneOf("Transaction type", ORG_TYPES),
  amount: fields.signedAmount("Amount"),
  description: reason,
  request_id: fields.requestId(),
  step,
});

export function adjustmentRoutes(deps: { payments: Payments }) {
  const p = deps.payments;
  const r = inputRouter();
  const edit = requireGlobal("EDIT");

  // --- member ----------------------------------------------------------------------------------------------
  /** The form as typed, to show again; a fresh request id when it had none. */
  const memberForm = (values: Record<string, string>) => ({
    ...formValues(values, MEMBER_FIELDS),
    request_id: values.request_id || randomUUID(),
  });
  const findMember = async (abf: number) => {
    const m = await p.db.user.findUnique({
      where: { systemNumber: abf },
      select: { id: true, firstName: true, lastName: true, systemNumber: true },
    });
    if (!m) throw badInput(`No member has ABF number ${abf}.`);
    return m;
  };

  r.get(
    "/payments/manual-adjust-member",
    { guard: edit, query: z.object({ member: optional(fields.integer("Member's ABF number")) }) },
    (_req, res, { query }) => {
      res.render("admin/adjust-member", { form: memberForm({ member: query.member?.toString() ?? "" }) });
    },
  );

  const memberRefused = async (req: Request, res: Response, message: string) => {
    res
      .status(400)
      .render("admin/adjust-member", { form: memberForm(formValues(req.body, MEMBER_FIELDS)), error: message });
  };

  r.post(
    "/payments/manual-adjust-member",
    { guard: edit, body: memberBody, invalid: memberRefused },
    async (req, res, { body }) => {
      const form = memberForm(formValues(req.body, MEMBER_FIELDS));
      await refusable(
        res,
        async () => {
          const m = await findMember(body.member);
          const amountCents = body.amount;
          if (body.step !== "confirm") {
            const account = await p.db.account.findUniqueOrThrow({
              where: { userId: m.id },
              select: { balanceCents: true },
            });
            if (amountCents === 0n) throw badInput("The amount cannot be zero.");
            if (!body.description.trim()) throw badInput("A reason is required.");
            res.render("admin/adjust-confirm", {
              form,
              action: "/payments/manual-adjust-member",
              who: `${m.firstName} ${m.lastName} (${m.systemNumber})`,
              amountCents,
              balanceCents: account.balanceCents,
              afterCents: account.balanceCents + amountCents,
            });
            return;
          }
          const input = {
            userId: m.id,
            amountCents,
            description: body.description,
            actorUserId: req.user!.id,
            idempotencyKey: `adjust:${req.user!.id}:${form.request_id}`,
          };
          if (await needsApproval(p.db, "move", amountCents)) {
            const ok = checkMemberAdjustment(input);
            return await sendForApproval(p.db, req, res, {
              kind: "member_adjustment",
              requestKey: input.idempotencyKey,
              summary: `Adjust ${m.firstName} ${m.lastName} (${m.systemNumber}) by ${formatMoney(amountCents)}: ${ok.description}`,
              amountCents,
              targetUserId: m.id,
              payload: { userId: m.id, amountCents: String(amountCents), description: ok.description },
            });
          }
          await adjustMemberBalance(p, input, auditActor(req));
          flash(
            req,
            "success",
            `Manual adjustment successful. ${m.firstName} ${m.lastName} adjusted by ${formatMoney(amountCents)}`,
          );
          res.redirect(`/payments/statement-admin-view/${m.id}`);
        },
        (message) => memberRefused(req, res, message),
      );
    },
  );

  // --- organisation ------------------------------------------------------------------------------------------
  const orgForm = (values: Record<string, string>) => ({
    ...formValues(values, ORG_FIELDS),
    type: values.type || "Manual Adjustment",
    request_id: values.request_id || randomUUID(),
  });
  const orgPage = async (form: ReturnType<typeof orgForm>, error?: string) => ({
    form,
    error,
    organisations: await p.db.organisation.findMany({
      orderBy: { name: "asc" },
      select: { id: true, name: true, clubNumber: true },
    }),
  });

  r.get("/payments/manual-adjust-org", { guard: edit }, async (_req, res) => {
    res.render("admin/adjust-org", await orgPage(orgForm({})));
  });
  // From a club's page: the club chosen, and the type (2 = a settlement).
  r.get(
    "/payments/manual-adjust-org/:orgId/:type",
    { guard: edit, params: z.object({ orgId: fields.id("Organisation"), type: fields.oneOf("Type", ["1", "2"]) }) },
    async (_req, res, { params }) => {
      const form = orgForm({ organisation: String(params.orgId), type: params.type === "2" ? "Settlement" : "" });
      res.render("admin/adjust-org", await orgPage(form));
    },
  );

  const orgRefused = async (req: Request, res: Response, message: string) => {
    res.status(400).render("admin/adjust-org", await orgPage(orgForm(formValues(req.body, ORG_FIELDS)), message));
  };

  r.post(
    "/payments/manual-adjust-org",
    { guard: edit, body: orgBody, invalid: orgRefused },
    async (req, res, { body }) => {
      const form = orgForm(formValues(req.body, ORG_FIELDS));
      await refusable(
        res,
        async () => {
          const org = await p.db.organisation.findUnique({
            where: { id: body.organisation },
            select: { id: true, name: true },
          });
          if (!org) throw badInput("Choose an organisation.");
          const amountCents = body.amount;
          if (body.type === "Settlement" && amountCents >= 0n) throw badInput("Settlement amount must be negative");
          if (amountCents === 0n) throw badInput("The amount cannot be zero.");
          if (!body.description.trim()) throw badInput("A reason is required.");
          const key = `adjust-org:${req.user!.id}:${form.request_id}`;
          if (body.step !== "confirm") {
            const account = await p.db.account.findUniqueOrThrow({
              where: { organisationId: org.id },
              select: { balanceCents: true },
            });
            res.render("admin/adjust-confirm", {
              form,
              action: "/payments/manual-adjust-org",
              who: org.name,
              amountCents,
              balanceCents: account.balanceCents,
              afterCents: account.balanceCents + amountCents,
              split: body.type === "Settlement" ? await settlementSplit(p, org.id, amountCents) : null,
            });
            return;
          }
          const input = {
            organisationId: org.id,
            amountCents,
            description: body.description,
            actorUserId: req.user!.id,
            idempotencyKey: key,
          };
          if (await needsApproval(p.db, "move", amountCents)) {
            const settle = body.type === "Settlement";
            const ok = settle ? checkManualSettlement(input) : checkOrganisationAdjustment(input);
            return await sendForApproval(p.db, req, res, {
              kind: settle ? "org_settlement" : "org_adjustment",
              requestKey: key,
              summary: `${settle ? "Settle" : "Adjust"} ${org.name} ${settle ? "for" : "by"} ${formatMoney(amountCents)}: ${ok.description}`,
              amountCents,
              organisationId: org.id,
              payload: { organisationId: org.id, amountCents: String(amountCents), description: ok.description },
            });
          }
          if (body.type === "Settlement") {
            const s = await settleOrganisationManually(p, input, auditActor(req));
            flash(
              req,
              "success",
              `Settlement recorded. ${org.name}: ${formatMoney(s.netCents)} to its bank, ${formatMoney(s.feeCents)} fee.`,
            );
          } else {
            await adjustOrganisationBalance(p, input, auditActor(req));
            flash(req, "success", `Adjustment successful. ${org.name} adjusted by ${formatMoney(amountCents)}`);
          }
          res.redirect(`/payments/statement-org/${org.id}`);
        },
        (message) => orgRefused(req, res, message),
      );
    },
  );
  return r.router;
}
