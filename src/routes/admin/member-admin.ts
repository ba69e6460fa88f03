// Any member's statement and card payments, for finance staff (reference §2 rows 22, 24, 45).
import { type Request, Router } from "express";
import { requireGlobal } from "../../auth/guards";
import { notFound } from "../../lib/errors";
import { getBalance } from "../../services/payments/balances";
import type { Payments } from "../../services/payments/context";
import { hasGlobal } from "../../services/roles/permissions";
import { allStatementRows, memberStatementPage, parseStatementQuery } from "../../services/statements/member-statement";
import { writeStatementCsv } from "../../services/statements/statement-csv";
import { attachment, statementFileName } from "../../web/download-name";

export function memberAdminRoutes(deps: { payments: Payments }) {
  const p = deps.payments;
  const r = Router();
  const member = async (req: Request) => {
    const id = /^\d{1,9}$/.test(String(req.params.memberId)) ? Number(req.params.memberId) : -1;
    const m = await p.db.user.findUnique({
      where: { id },
      select: { id: true, firstName: true, lastName: true, systemNumber: true, email: true, autoTopUpStatus: true },
    });
    if (!m) throw notFound("That member does not exist.");
    return m;
  };

  r.get("/payments/statement-admin-view/:memberId", ...requireGlobal("VIEW"), async (req, res) => {
    const m = await member(req);
    const q = parseStatementQuery(req.query);
    const page = await memberStatementPage(p, m.id, q);
    res.render("admin/member-statement", {
      m,
      ...page,
      q,
      refundLinks: hasGlobal(req.user!.permissions, "EDIT"),
    });
  });

  r.get("/payments/statement-csv/:memberId", ...requireGlobal("VIEW"), async (req, res) => {
    const m = await member(req);
    const q = parseStatementQuery(req.query);
    res.setHeader("Content-Type", "text/csv; charset=utf-8");
    attachment(res, statementFileName([m.systemNumber], q, p.timeZone, "csv"));
    await writeStatementCsv(res, p.timeZone, allStatementRows(p, await p.accounts.forUser(m.id), q));
  });

  r.get("/payments/admin-player-payments/:memberId", ...requireGlobal("EDIT"), async (req, res) => {
    const m = await member(req);
    const [balance, cards] = await Promise.all([
      getBalance(p, m.id),
      p.db.cardPayment.findMany({ where: { userId: m.id }, orderBy: { id: "desc" }, take: 10 }),
    ]);
    res.render("admin/player-payments", { m, balance, cards });
  });
  return r;
}
