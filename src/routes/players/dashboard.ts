import { requireLogin } from "../../auth/guards";
import type { Db } from "../../db/client";
import { statementRowsPg } from "../../services/ledger/statement-rows";
import { listOrganisationsByIds } from "../../services/orgs/list-organisations";
import { getBalanceDetail } from "../../services/payments/balances";
import type { Payments } from "../../services/payments/context";
import { listIousForMember } from "../../services/payments/ious";
import { inputRouter } from "../../web/input";

export function dashboardRoutes(deps: { db: Db; payments: Payments }) {
  const r = inputRouter();
  r.get("/", {}, (req, res) => res.redirect(req.user ? "/dashboard" : "/login"));
  r.get("/dashboard", { guard: requireLogin }, async (req, res) => {
    const user = req.user!;
    const accountId = await deps.payments.accounts.forUser(user.id);
    const [clubs, balance, auto, ious, recent] = await Promise.all([
      listOrganisationsByIds(deps.db, [...user.permissions.orgs.keys()]),
      getBalanceDetail(deps.payments, user.id),
      deps.db.user.findUniqueOrThrow({
        where: { id: user.id },
        select: { autoTopUpStatus: true, autoTopUpAmountCents: true },
      }),
      listIousForMember(deps.payments, user.id, user.systemNumber),
      statementRowsPg(deps.payments.pool, accountId, { limit: 5 }),
    ]);
    res.render("players/dashboard", { clubs, balance, auto, ious, recent });
  });
  return r.router;
}
