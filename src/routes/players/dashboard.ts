import { Router } from "express";
import { requireLogin } from "../../auth/guards";
import type { Db } from "../../db/client";
import { listOrganisationsByIds } from "../../services/orgs/list-organisations";
import { getBalanceDetail } from "../../services/payments/balances";
import type { Payments } from "../../services/payments/context";

export function dashboardRoutes(deps: { db: Db; payments: Payments }) {
  const r = Router();
  r.get("/", (req, res) => res.redirect(req.user ? "/dashboard" : "/login"));
  r.get("/dashboard", requireLogin, async (req, res) => {
    const user = req.user!;
    const [clubs, balance] = await Promise.all([
      listOrganisationsByIds(deps.db, [...user.permissions.orgs.keys()]),
      getBalanceDetail(deps.payments, user.id),
    ]);
    res.render("players/dashboard", { clubs, balance });
  });
  return r;
}
