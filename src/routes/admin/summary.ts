// Finance back office home. Access: global payments view or edit.
import { Router } from "express";
import { requireGlobal } from "../../auth/guards";
import type { Db } from "../../db/client";
import { countPeople, listOrganisations } from "../../services/orgs/list-organisations";

export function adminSummaryRoutes(deps: { db: Db }) {
  const r = Router();
  r.get("/payments/statement-admin-summary", ...requireGlobal("VIEW"), async (_req, res) => {
    const [counts, organisations] = await Promise.all([countPeople(deps.db), listOrganisations(deps.db)]);
    res.render("admin/summary", { counts, organisations });
  });
  return r;
}
