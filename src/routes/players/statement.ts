// The member's statement (reference §2 rows 1 and 15): balance and the latest entries with running balances.
// Issue 5 adds filters, paging, CSV and PDF; this is the page the top-up flows return to.
import { Router } from "express";
import { requireLogin } from "../../auth/guards";
import { statementRows } from "../../services/ledger/statement-rows";
import { getBalanceDetail } from "../../services/payments/balances";
import type { Payments } from "../../services/payments/context";

export function statementRoutes(deps: { payments: Payments }) {
  const p = deps.payments;
  const r = Router();
  const page = async (userId: number) => {
    const accountId = await p.accounts.forUser(userId);
    const [balance, rows] = await Promise.all([
      getBalanceDetail(p, userId),
      statementRows(p.db, accountId, { limit: 50 }),
    ]);
    return { balance, rows };
  };
  r.get(["/payments", "/payments/statement"], requireLogin, async (req, res) => {
    res.render("players/statement", await page(req.user!.id));
  });
  return r;
}
