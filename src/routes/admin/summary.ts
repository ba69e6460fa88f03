// Finance home and the balance lists (reference §3.15; §2 rows 28–31, 36). Global payments view or edit.
import { z } from "zod";
import { requireGlobal } from "../../auth/guards";
import type { Db } from "../../db/client";
import {
  membersWithBalance,
  membersWithBalanceCsv,
  orgsWithBalance,
  orgsWithBalanceCsv,
} from "../../services/finance/balance-lists";
import { financeSummary } from "../../services/finance/finance-summary";
import { listOrganisations } from "../../services/orgs/list-organisations";
import { forReading, type Payments } from "../../services/payments/context";
import { searchMembers } from "../../services/users/search-members";
import { sendCopyCsv } from "../../web/csv-response";
import { downloadName, downloadStamp } from "../../web/download-name";
import { fields, inputRouter, optional } from "../../web/input";
import { recordExport } from "../../web/audit-actor";

const pageQuery = z.object({ page: optional(fields.integer("Page", 999_999)) });
const pageOf = (q: { page?: number }) => Math.max(1, q.page ?? 1);

export function adminSummaryRoutes(deps: { db: Db; payments: Payments }) {
  const r = inputRouter();
  const view = requireGlobal("VIEW");
  // The summary and the balance lists read through DATABASE_READ_URL when it is set.
  const rp = forReading(deps.payments);

  r.get(
    "/payments/statement-admin-summary",
    { guard: view, query: z.object({ member: optional(fields.text("Member search", { max: 100 })) }) },
    async (_req, res, { query }) => {
      const q = (query.member ?? "").trim();
      const [summary, organisations, found] = await Promise.all([
        financeSummary(rp),
        listOrganisations(deps.db),
        q ? searchMembers(deps.db, q, 0) : Promise.resolve(null),
      ]);
      res.render("admin/summary", { summary, organisations, q, found });
    },
  );

  r.get("/payments/admin-members-with-balance", { guard: view, query: pageQuery }, async (_req, res, { query }) => {
    const page = pageOf(query);
    res.render("admin/members-with-balance", { ...(await membersWithBalance(rp.db, page)), page });
  });

  r.get("/payments/admin-orgs-with-balance", { guard: view, query: pageQuery }, async (_req, res, { query }) => {
    const page = pageOf(query);
    res.render("admin/orgs-with-balance", { ...(await orgsWithBalance(rp.db, page)), page });
  });

  r.get("/payments/admin-members-with-balance-csv", { guard: view }, async (req, res) => {
    const file = downloadName(["member-balances", "at", downloadStamp(deps.payments.timeZone)], "csv");
    await recordExport(deps.db, req, { file, targetType: "members", targetId: "all" });
    await sendCopyCsv(req, res, rp.pool, file, membersWithBalanceCsv());
  });

  r.get("/payments/admin-orgs-with-balance-csv", { guard: view }, async (req, res) => {
    const file = downloadName(["organisation-balances", "at", downloadStamp(deps.payments.timeZone)], "csv");
    await recordExport(deps.db, req, { file, targetType: "organisations", targetId: "all" });
    await sendCopyCsv(req, res, rp.pool, file, orgsWithBalanceCsv());
  });
  return r.router;
}
