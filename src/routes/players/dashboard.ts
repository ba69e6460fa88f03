import { requireLogin } from "../../auth/guards";
import type { Db } from "../../db/client";
import { statementRowsPg } from "../../services/ledger/statement-rows";
import { listOrganisationsByIds } from "../../services/orgs/list-organisations";
import type { Payments } from "../../services/payments/context";
import { memberSummary } from "../../services/payments/member-summary";
import { inputRouter } from "../../web/input";

export function dashboardRoutes(deps: { db: Db; payments: Payments }) {
  const r = inputRouter();
  r.get("/", {}, (req, res) => res.redirect(req.user ? "/dashboard" : "/login"));
  r.get("/dashboard", { guard: requireLogin }, async (req, res) => {
    const user = req.user!;
    const accountId = await deps.payments.accounts.forUser(user.id);
    const [clubs, summary, recent] = await Promise.all([
      listOrganisationsByIds(deps.db, [...user.permissions.orgs.keys()]),
      memberSummary(deps.payments, user.id),
      statementRowsPg(deps.payments.pool, accountId, { limit: 5 }),
    ]);
    res.render("players/dashboard", { clubs, ...summary, recent });
  });
  return r.router;
}
