// Club pages. Access: officers of that club (payments view or edit) and federation finance staff.
import { Router } from "express";
import { requireOrg } from "../../auth/guards";
import type { Db } from "../../db/client";
import { getOrganisation } from "../../services/orgs/list-organisations";
import { hasOrg } from "../../services/roles/permissions";

export function clubRoutes(deps: { db: Db }) {
  const r = Router();
  r.get("/payments/statement-org/:orgId", ...requireOrg("VIEW"), async (req, res) => {
    const org = await getOrganisation(deps.db, Number(req.params.orgId));
    res.render("orgs/club", { org, canEdit: hasOrg(req.user!.permissions, org.id, "EDIT") });
  });
  return r;
}
