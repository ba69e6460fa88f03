// Any member's statement and card payments, for finance staff (reference §2 rows 22, 24, 45).
import type { Request, Response } from "express";
import { z } from "zod";
import { requireGlobal } from "../../auth/guards";
import { notFound } from "../../lib/errors";
import { getBalance } from "../../services/payments/balances";
import { forReading, type Payments } from "../../services/payments/context";
import { hasGlobal } from "../../services/roles/permissions";
import { memberStatementPage, type StatementQuery } from "../../services/statements/member-statement";
import { statementCsvQuery } from "../../services/statements/statement-csv";
import { sendCopyCsv } from "../../web/csv-response";
import { statementFileName } from "../../web/download-name";
import { fields, inputRouter } from "../../web/input";
import { filterLocals, statementQuery } from "../../web/statement-filters";
import { recordExport } from "../../web/audit-actor";

const memberParams = z.object({ memberId: fields.id("Member") });

export function memberAdminRoutes(deps: { payments: Payments }) {
  const p = deps.payments;
  const rp = forReading(p); // statements through DATABASE_READ_URL when it is set
  const r = inputRouter();
  const member = async (id: number) => {
    const m = await p.db.user.findUnique({
      where: { id },
      select: { id: true, firstName: true, lastName: true, systemNumber: true, email: true, autoTopUpStatus: true },
    });
    if (!m) throw notFound("That member does not exist.");
    return m;
  };

  const view = { guard: requireGlobal("VIEW"), params: memberParams, query: statementQuery };
  // As the member's own page: filters by dates and type, kept by the paging and download links; a refused filter
  // shows the whole statement with the message.
  const page = async (req: Request, res: Response, memberId: number, q: StatementQuery, error: string | null) => {
    const m = await member(memberId);
    res.status(error ? 400 : 200).render("admin/member-statement", {
      m,
      ...(await memberStatementPage(rp, m.id, q)),
      ...filterLocals(q, error),
      refundLinks: hasGlobal(req.user!.permissions, "EDIT"),
    });
  };
  r.get(
    "/payments/statement-admin-view/:memberId",
    {
      ...view,
      // The address was checked before the query (a bad member id is a 404), so it parses here.
      invalid: (req, res, message) => page(req, res, memberParams.parse(req.params).memberId, {}, message),
    },
    (req, res, { params, query }) => page(req, res, params.memberId, query, null),
  );

  r.get("/payments/statement-csv/:memberId", view, async (req, res, { params, query: q }) => {
    const m = await member(params.memberId);
    const file = statementFileName([m.systemNumber], q, p.timeZone, "csv");
    await recordExport(p.db, req, { file, targetType: "user", targetId: m.id, filters: q });
    await sendCopyCsv(req, res, rp.pool, file, statementCsvQuery(await p.accounts.forUser(m.id), p.timeZone, q));
  });

  const edit = { guard: requireGlobal("EDIT"), params: memberParams };
  r.get("/payments/admin-player-payments/:memberId", edit, async (_req, res, { params }) => {
    const m = await member(params.memberId);
    const [balance, cards] = await Promise.all([
      getBalance(p, m.id),
      p.db.cardPayment.findMany({ where: { userId: m.id }, orderBy: { id: "desc" }, take: 10 }),
    ]);
    res.render("admin/player-payments", { m, balance, cards });
  });
  return r.router;
}
