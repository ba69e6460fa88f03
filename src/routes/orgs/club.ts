// Club pages (reference §2 rows 38, 39, 43, 44, 50; §3.7, §3.13; §7.2). Officers of the club (view or edit) and
// federation finance staff see the statement, its summary and CSV; editors transfer to members.
import { randomUUID } from "node:crypto";
import type { Request, Response } from "express";
import { z } from "zod";
import { requireLogin, requireOrg } from "../../auth/guards";
import type { Db } from "../../db/client";
import { AppError, badInput, notFound } from "../../lib/errors";
import { formatMoney, formatPercent } from "../../lib/money";
import { orgFeePpm } from "../../services/finance/fees";
import { orgStatementPage, orgSummary, SUMMARY_RANGES } from "../../services/finance/org-statement";
import { TRANSACTION_TYPES } from "../../services/ledger/transaction-types";
import { getOrganisation } from "../../services/orgs/list-organisations";
import { orgBalance } from "../../services/payments/balances";
import { forReading, type Payments } from "../../services/payments/context";
import { orgToMemberTransfer } from "../../services/payments/org-to-member-transfer";
import { hasOrg } from "../../services/roles/permissions";
import { allStatementRows, type StatementQuery } from "../../services/statements/member-statement";
import { statementCsvQuery } from "../../services/statements/statement-csv";
import { statementPdf } from "../../services/statements/statement-pdf";
import { recordExport } from "../../web/audit-actor";
import { sendCopyCsv } from "../../web/csv-response";
import { attachment, statementFileName } from "../../web/download-name";
import { flash } from "../../web/flash";
import { fields, formValues, inputRouter } from "../../web/input";
import { filterQuery, periodText, statementQuery } from "../../web/statement-filters";

// requireOrg has already refused a malformed club id (404); the schema makes it a number for the handler.
const orgParams = z.object({ orgId: fields.id("Organisation") });
const TRANSFER_FIELDS = ["abf", "amount", "description", "request_id"] as const;
const transferBody = z.object({
  abf: fields.integer("ABF number"),
  amount: fields.amount("Amount"),
  description: fields.text("Description"),
  request_id: fields.requestId(),
});

export function clubRoutes(deps: { db: Db; payments: Payments }) {
  const p = deps.payments;
  // The club's statement, summary and downloads read through DATABASE_READ_URL when it is set.
  const rp = forReading(p);
  const r = inputRouter();

  const view = { guard: requireOrg("VIEW"), params: orgParams };
  const clubPage = async (req: Request, res: Response, orgId: number, q: StatementQuery, error: string | null) => {
    const org = await getOrganisation(deps.db, orgId);
    const [balance, page, summary, fee] = await Promise.all([
      orgBalance(rp, org.id),
      orgStatementPage(rp, org.id, q),
      orgSummary(rp, org.id, "30"),
      orgFeePpm(deps.db, org.id),
    ]);
    const filters = filterQuery(q);
    res.status(error ? 400 : 200).render("orgs/club", {
      org,
      balance,
      page,
      summary,
      fee: formatPercent(fee),
      canEdit: hasOrg(req.user!.permissions, org.id, "EDIT"),
      before: q.before,
      q,
      error,
      types: TRANSACTION_TYPES,
      filters,
      filtered: !!filters,
    });
  };
  // Bad filters show the whole statement with the message, as the member's statement does.
  r.get(
    "/payments/statement-org/:orgId",
    {
      ...view,
      query: statementQuery,
      invalid: async (req, res, message) => {
        const id = fields.id().safeParse(req.params.orgId);
        if (!id.success) throw notFound("That organisation does not exist.");
        await clubPage(req, res, id.data, {}, message);
      },
    },
    (req, res, { params, query }) => clubPage(req, res, params.orgId, query, null),
  );

  r.get(
    "/payments/statement-org-summary/:orgId/:range",
    { ...view, params: orgParams.extend({ range: fields.oneOf("Range", SUMMARY_RANGES) }) },
    async (_req, res, { params }) => {
      const org = await getOrganisation(deps.db, params.orgId);
      res.render("orgs/summary-fragment", { org, summary: await orgSummary(rp, org.id, params.range) });
    },
  );

  const downloads = { ...view, query: statementQuery };
  r.get("/payments/statement-csv-org/:orgId", downloads, async (req, res, { params, query: q }) => {
    const org = await getOrganisation(deps.db, params.orgId);
    const accountId = await p.accounts.forOrganisation(org.id);
    const file = statementFileName(["club", org.clubNumber], q, p.timeZone, "csv");
    await recordExport(p.db, req, { file, targetType: "organisation", targetId: org.id, orgId: org.id, filters: q });
    await sendCopyCsv(req, res, rp.pool, file, statementCsvQuery(accountId, p.timeZone, q));
  });

  // The club's statement as PDF: the member statement's layout and cap (statement-pdf.ts).
  r.get("/payments/statement-pdf-org/:orgId", downloads, async (req, res, { params, query: q }) => {
    const org = await getOrganisation(deps.db, params.orgId);
    const accountId = await p.accounts.forOrganisation(org.id);
    const pdf = await statementPdf(
      {
        name: org.name,
        identity: `Club number ${org.clubNumber}`,
        period: periodText(q),
        timeZone: p.timeZone,
        generatedAt: new Date(),
      },
      allStatementRows(rp, accountId, q),
    );
    const file = statementFileName(["club", org.clubNumber], q, p.timeZone, "pdf");
    await recordExport(p.db, req, { file, targetType: "organisation", targetId: org.id, orgId: org.id, filters: q });
    res.setHeader("Content-Type", "application/pdf");
    attachment(res, file);
    res.send(pdf);
  });

  const transferPage = async (orgId: number, form: Partial<Record<string, string>>, error?: string) => {
    const org = await getOrganisation(deps.db, orgId);
    return { org, balance: await orgBalance(p, org.id), form, error, requestId: form.request_id || randomUUID() };
  };
  const edit = { guard: requireOrg("EDIT"), params: orgParams };

  r.get("/payments/member-transfer-org/:orgId", edit, async (_req, res, { params }) => {
    res.render("orgs/member-transfer", await transferPage(params.orgId, {}));
  });

  const transferRefused = async (req: Request, res: Response, message: string) => {
    const form = formValues(req.body, TRANSFER_FIELDS);
    res.status(400).render("orgs/member-transfer", await transferPage(Number(req.params.orgId), form, message));
  };

  r.post(
    "/payments/member-transfer-org/:orgId",
    { ...edit, body: transferBody, invalid: transferRefused },
    async (req, res, { params, body }) => {
      const orgId = params.orgId;
      const requestId = body.request_id;
      const form = { ...formValues(req.body, TRANSFER_FIELDS), request_id: requestId };
      try {
        const to = await deps.db.user.findUnique({
          where: { systemNumber: body.abf },
          select: { id: true, firstName: true, lastName: true },
        });
        if (!to) throw badInput(`No member has ABF number ${body.abf}.`);
        await orgToMemberTransfer(p, {
          organisationId: orgId,
          toUserId: to.id,
          amountCents: body.amount,
          description: body.description,
          actorUserId: req.user!.id,
          idempotencyKey: `org-transfer:${orgId}:${requestId}`,
        });
        flash(req, "success", `Transferred ${formatMoney(body.amount)} to ${to.firstName} ${to.lastName}`);
        res.redirect(`/payments/statement-org/${orgId}`);
      } catch (e) {
        if (!(e instanceof AppError) || e.status >= 500) throw e;
        res.status(400).render("orgs/member-transfer", await transferPage(orgId, form, e.message));
      }
    },
  );

  // Plain-text fee percentage, for the adjustment page's script (§2 row 50: any signed-in user).
  r.get("/payments/get-org-fees/:orgId", { guard: requireLogin, params: orgParams }, async (_req, res, { params }) => {
    const org = await deps.db.organisation.findUnique({ where: { id: params.orgId }, select: { id: true } });
    if (!org) return res.status(404).type("text").send("Unknown organisation");
    res.type("text").send(formatPercent(await orgFeePpm(deps.db, org.id)));
  });
  return r.router;
}
