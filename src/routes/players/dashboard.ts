import { Router } from "express";
import { requireLogin } from "../../auth/guards";
import type { Db } from "../../db/client";
import { listOrganisationsByIds } from "../../services/orgs/list-organisations";

export function dashboardRoutes(deps: { db: Db }) {
  const r = Router();
  r.get("/", (req, res) => res.redirect(req.user ? "/dashboard" : "/login"));
  r.get("/dashboard", requireLogin, async (req, res) => {
    const user = req.user!;
    const clubs = await listOrganisationsByIds(deps.db, [...user.permissions.orgs.keys()]);
    res.render("players/dashboard", { clubs });
  });
  return r;
}
