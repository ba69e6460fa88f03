// Club pages (reference §2 rows 38, 39, 43, 44, 50; §3.7, §3.13; §7.2). Officers of the club (view or edit) and
// federation finance staff see the statement, its summary and CSV; editors transfer to members.
import { randomUUID } from "node:crypto";
import { type Request, Router } from "express";
import { requireLogin, requireOrg } from "../../auth/guards";
import type { Db } from "../../db/client";
import { AppError, badInput } from "../../lib/errors";
import { formatMoney, formatPercent, parseAmount } from "../../lib/money";
import { orgFeePpm } from "../../services/finance/fees";
import { orgStatementPage, orgSummary } from "../../services/finance/org-statement";
import { getOrganisation } from "../../services/orgs/list-organisations";
import { orgBalance } from "../../services/payments/balances";
import type { Payments } from "../../services/payments/context";
import { orgToMemberTransfer } from "../../services/payments/org-to-member-transfer";
import { hasOrg } from "../../services/roles/permissions";
import { allStatementRows } from "../../services/statements/member-statement";
import { writeStatementCsv } from "../../services/statements/statement-csv";
import { attachment, statementFileName } from "../../web/download-name";
import { flash } from "../../web/flash";
import { formRequestId } from "../../web/request-id";

const orgId = (req: Request) => Number(req.params.orgId);
const before = (req: Request) =>
  /^\d{1,10}$/.test(String(req.query.before ?? "")) ? Number(req.query.before) : undefined;

export function clubRoutes(deps: { db: Db; payments: Payments }) {
  const p = deps.payments;
  const r = Router();

  r.get("/payments/statement-org/:orgId", ...requireOrg("VIEW"), async (req, res) => {
    const org = await getOrganisation(deps.db, orgId(req));
    const [balance, page, summary, fee] = await Promise.all([
      orgBalance(p, org.id),
      orgStatementPage(p, org.id, before(req)),
      orgSummary(p, org.id, "30"),
      orgFeePpm(deps.db, org.id),
    ]);
    res.render("orgs/club", {
      org,
      balance,
      page,
      summary,
      fee: formatPercent(fee),
      canEdit: hasOrg(req.user!.permissions, org.id, "EDIT"),
      before: before(req),
    });
  });

  r.get("/payments/statement-org-summary/:orgId/:range", ...requireOrg("VIEW"), async (req, res) => {
    const org = await getOrganisation(deps.db, orgId(req));
    res.render("orgs/summary-fragment", { org, summary: await orgSummary(p, org.id, String(req.params.range)) });
  });

  r.get("/payments/statement-csv-org/:orgId", ...requireOrg("VIEW"), async (req, res) => {
    const org = await getOrganisation(deps.db, orgId(req));
    const accountId = await p.accounts.forOrganisation(org.id);
    res.setHeader("Content-Type", "text/csv; charset=utf-8");
    attachment(res, statementFileName(["club", org.clubNumber], {}, p.timeZone, "csv"));
    await writeStatementCsv(res, p.timeZone, allStatementRows(p, accountId, { type: undefined, before: undefined }));
  });

  const transferPage = async (req: Request, form: Record<string, string>, error?: string) => {
    const org = await getOrganisation(deps.db, orgId(req));
    return { org, balance: await orgBalance(p, org.id), form, error, requestId: form.request_id ?? randomUUID() };
  };

  r.get("/payments/member-transfer-org/:orgId", ...requireOrg("EDIT"), async (req, res) => {
    res.render("orgs/member-transfer", await transferPage(req, {}));
  });

  r.post("/payments/member-transfer-org/:orgId", ...requireOrg("EDIT"), async (req, res) => {
    const form = {
      abf: String(req.body?.abf ?? "").trim(),
      amount: String(req.body?.amount ?? ""),
      description: String(req.body?.description ?? ""),
      request_id: formRequestId(req.body?.request_id),
    };
    try {
      const to = /^\d{1,9}$/.test(form.abf)
        ? await deps.db.user.findUnique({
            where: { systemNumber: Number(form.abf) },
            select: { id: true, firstName: true, lastName: true },
          })
        : null;
      if (!to) throw badInput(form.abf ? `No member has ABF number ${form.abf}.` : "Enter the member's ABF number.");
      const amountCents = parseAmount(form.amount, "Amount");
      await orgToMemberTransfer(p, {
        organisationId: orgId(req),
        toUserId: to.id,
        amountCents,
        description: form.description,
        actorUserId: req.user!.id,
        idempotencyKey: `org-transfer:${orgId(req)}:${form.request_id}`,
      });
      flash(req, "success", `Transferred ${formatMoney(amountCents)} to ${to.firstName} ${to.lastName}`);
      res.redirect(`/payments/statement-org/${orgId(req)}`);
    } catch (e) {
      if (!(e instanceof AppError) || e.status >= 500) throw e;
      res.status(400).render("orgs/member-transfer", await transferPage(req, form, e.message));
    }
  });

  // Plain-text fee percentage, for the adjustment page's script (§2 row 50: any signed-in user).
  r.get("/payments/get-org-fees/:orgId", requireLogin, async (req, res) => {
    const id = /^\d{1,9}$/.test(String(req.params.orgId)) ? Number(req.params.orgId) : -1;
    const org = await deps.db.organisation.findUnique({ where: { id }, select: { id: true } });
    if (!org) return res.status(404).type("text").send("Unknown organisation");
    res.type("text").send(formatPercent(await orgFeePpm(deps.db, org.id)));
  });
  return r;
}
