// Manual adjustments of a member or a club, and a club settlement recorded by hand (reference §3.10; §2 rows
// 19–21). Global payments edit. Two steps: the form, then a confirmation showing the balance after; the
// confirmation carries a request id, so submitting it twice books once.
import { type Request, type Response, Router } from "express";
import { requireGlobal } from "../../auth/guards";
import { AppError, badInput } from "../../lib/errors";
import { formatMoney, parseSignedAmount } from "../../lib/money";
import type { Payments } from "../../services/payments/context";
import {
  adjustMemberBalance,
  adjustOrganisationBalance,
  settlementSplit,
  settleOrganisationManually,
} from "../../services/payments/manual-adjustment";
import { flash } from "../../web/flash";
import { formRequestId } from "../../web/request-id";

async function refusable(res: Response, fn: () => Promise<void>, onRefused: (m: string) => Promise<void>) {
  try {
    await fn();
  } catch (e) {
    if (!(e instanceof AppError) || e.status >= 500 || res.headersSent) throw e;
    await onRefused(e.message);
  }
}

export function adjustmentRoutes(deps: { payments: Payments }) {
  const p = deps.payments;
  const r = Router();
  const edit = requireGlobal("EDIT");

  // --- member ----------------------------------------------------------------------------------------------
  const memberForm = (req: Request) => ({
    member: String(req.body?.member ?? req.query.member ?? "").trim(),
    amount: String(req.body?.amount ?? ""),
    description: String(req.body?.description ?? ""),
    request_id: formRequestId(req.body?.request_id),
  });
  const findMember = async (abf: string) => {
    const m = /^\d{1,9}$/.test(abf)
      ? await p.db.user.findUnique({
          where: { systemNumber: Number(abf) },
          select: { id: true, firstName: true, lastName: true, systemNumber: true },
        })
      : null;
    if (!m) throw badInput(abf ? `No member has ABF number ${abf}.` : "Enter the member's ABF number.");
    return m;
  };

  r.get("/payments/manual-adjust-member", ...edit, (req, res) => {
    res.render("admin/adjust-member", { form: memberForm(req) });
  });

  r.post("/payments/manual-adjust-member", ...edit, async (req, res) => {
    const form = memberForm(req);
    await refusable(
      res,
      async () => {
        const m = await findMember(form.member);
        const amountCents = parseSignedAmount(form.amount, "Amount");
        if (req.body?.step !== "confirm") {
          const account = await p.db.account.findUniqueOrThrow({
            where: { userId: m.id },
            select: { balanceCents: true },
          });
          if (amountCents === 0n) throw badInput("The amount cannot be zero.");
          if (!form.description.trim()) throw badInput("A reason is required.");
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
        await adjustMemberBalance(p, {
          userId: m.id,
          amountCents,
          description: form.description,
          actorUserId: req.user!.id,
          idempotencyKey: `adjust:${req.user!.id}:${form.request_id}`,
        });
        flash(
          req,
          "success",
          `Manual adjustment successful. ${m.firstName} ${m.lastName} adjusted by ${formatMoney(amountCents)}`,
        );
        res.redirect(`/payments/statement-admin-view/${m.id}`);
      },
      async (message) => {
        res.status(400).render("admin/adjust-member", { form, error: message });
      },
    );
  });

  // --- organisation ------------------------------------------------------------------------------------------
  const orgForm = (req: Request) => ({
    organisation: String(req.body?.organisation ?? req.params.orgId ?? ""),
    type: String(req.body?.type ?? (req.params.type === "2" ? "Settlement" : "Manual Adjustment")),
    amount: String(req.body?.amount ?? ""),
    description: String(req.body?.description ?? ""),
    request_id: formRequestId(req.body?.request_id),
  });
  const orgPage = async (form: ReturnType<typeof orgForm>, error?: string) => ({
    form,
    error,
    organisations: await p.db.organisation.findMany({
      orderBy: { name: "asc" },
      select: { id: true, name: true, clubNumber: true },
    }),
  });

  r.get(["/payments/manual-adjust-org", "/payments/manual-adjust-org/:orgId/:type"], ...edit, async (req, res) => {
    res.render("admin/adjust-org", await orgPage(orgForm(req)));
  });

  r.post("/payments/manual-adjust-org", ...edit, async (req, res) => {
    const form = orgForm(req);
    await refusable(
      res,
      async () => {
        const org = /^\d{1,9}$/.test(form.organisation)
          ? await p.db.organisation.findUnique({
              where: { id: Number(form.organisation) },
              select: { id: true, name: true },
            })
          : null;
        if (!org) throw badInput("Choose an organisation.");
        if (form.type !== "Manual Adjustment" && form.type !== "Settlement")
          throw badInput("Choose the transaction type.");
        const amountCents = parseSignedAmount(form.amount, "Amount");
        if (form.type === "Settlement" && amountCents >= 0n) throw badInput("Settlement amount must be negative");
        if (amountCents === 0n) throw badInput("The amount cannot be zero.");
        if (!form.description.trim()) throw badInput("A reason is required.");
        const key = `adjust-org:${req.user!.id}:${form.request_id}`;
        if (req.body?.step !== "confirm") {
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
            split: form.type === "Settlement" ? await settlementSplit(p, org.id, amountCents) : null,
          });
          return;
        }
        if (form.type === "Settlement") {
          const s = await settleOrganisationManually(p, {
            organisationId: org.id,
            amountCents,
            description: form.description,
            actorUserId: req.user!.id,
            idempotencyKey: key,
          });
          flash(
            req,
            "success",
            `Settlement recorded. ${org.name}: ${formatMoney(s.netCents)} to its bank, ${formatMoney(s.feeCents)} fee.`,
          );
        } else {
          await adjustOrganisationBalance(p, {
            organisationId: org.id,
            amountCents,
            description: form.description,
            actorUserId: req.user!.id,
            idempotencyKey: key,
          });
          flash(req, "success", `Adjustment successful. ${org.name} adjusted by ${formatMoney(amountCents)}`);
        }
        res.redirect(`/payments/statement-org/${org.id}`);
      },
      async (message) => {
        res.status(400).render("admin/adjust-org", await orgPage(form, message));
      },
    );
  });
  return r;
}
