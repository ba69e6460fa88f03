// The club finance report (issue 19 item 1): club officers (view or edit) of that club and finance staff. The page
// (paged, totals by type), the CSV (streamed by PostgreSQL, the page's columns) and the workbook, all with the
// same filters, parsed here.
import type { Request, Response } from "express";
import { z } from "zod";
import { requireOrg } from "../../auth/guards";
import type { Db } from "../../db/client";
import { notFound } from "../../lib/errors";
import {
  allReportLines,
  type OrgReportFilter,
  orgReportCsvQuery,
  orgReportPage,
} from "../../services/finance/org-report";
import { orgReportWorkbook } from "../../services/finance/org-report-xlsx";
import { TRANSACTION_TYPES } from "../../services/ledger/transaction-types";
import { getOrganisation } from "../../services/orgs/list-organisations";
import { forReading, type Payments } from "../../services/payments/context";
import { localTime } from "../../services/statements/statement-csv";
import { recordExport } from "../../web/audit-actor";
import { sendCopyCsv } from "../../web/csv-response";
import { attachment, downloadName, periodParts } from "../../web/download-name";
import { fields, inputRouter, optional } from "../../web/input";
import { periodText } from "../../web/statement-filters";

const params = z.object({ orgId: fields.id("Organisation") });
const reportQuery = z
  .object({
    from: optional(fields.date("From date")),
    to: optional(fields.date("To date")),
    type: optional(fields.oneOf("Type", TRANSACTION_TYPES)),
    search: optional(fields.text("Search", { max: 100 })),
    page: optional(fields.integer("Page", 999_999)),
    format: optional(fields.oneOf("Format", ["csv", "xlsx"])),
  })
  .refine((q) => !q.from || !q.to || q.from <= q.to, { message: "The start date must not be after the end date." });

/** The filters as a query string, for the page's links (pages, downloads). */
function filterLink(f: OrgReportFilter) {
  const q = new URLSearchParams();
  for (const k of ["from", "to", "type", "search"] as const) if (f[k]) q.set(k, f[k]!);
  return q.toString();
}

export function orgReportRoutes(deps: { db: Db; payments: Payments }) {
  const p = deps.payments;
  // Reads go through DATABASE_READ_URL when it is set, as the club's statement does.
  const rp = forReading(p);
  const r = inputRouter();

  const page = async (res: Response, orgId: number, f: OrgReportFilter, pageNo: number, error: string | null) => {
    const org = await getOrganisation(deps.db, orgId);
    const report = await orgReportPage(rp, org.id, f, pageNo);
    const filters = filterLink(f);
    res.status(error ? 400 : 200).render("orgs/org-report", {
      org,
      ...report,
      q: f,
      error,
      types: TRANSACTION_TYPES,
      filters,
      base: `/payments/org-report/${org.id}?${filters ? `${filters}&` : ""}`,
    });
  };

  // Bad filters show the whole report with the message, as the statements do.
  const refused = async (req: Request, res: Response, message: string) => {
    const id = fields.id().safeParse(req.params.orgId);
    if (!id.success) throw notFound("That organisation does not exist.");
    await page(res, id.data, {}, 1, message);
  };

  r.get(
    "/payments/org-report/:orgId",
    { guard: requireOrg("VIEW"), params, query: reportQuery, invalid: refused },
    async (req, res, { params, query }) => {
      const f: OrgReportFilter = {
        from: query.from,
        to: query.to,
        type: query.type,
        search: query.search?.trim() || undefined,
      };
      if (!query.format) return page(res, params.orgId, f, Math.max(1, query.page ?? 1), null);
      const org = await getOrganisation(deps.db, params.orgId);
      const name = (ext: string) =>
        downloadName(["club-report", org.clubNumber, f.type, ...periodParts(f.from, f.to, p.timeZone)], ext);
      const file = name(query.format);
      const filters = { ...f };
      await recordExport(p.db, req, { file, targetType: "organisation", targetId: org.id, orgId: org.id, filters });
      if (query.format === "csv") {
        return sendCopyCsv(req, res, rp.pool, file, await orgReportCsvQuery(rp, org.id, f));
      }
      const lines = await allReportLines(rp, org.id, f);
      const book = await orgReportWorkbook(
        {
          clubName: org.name,
          clubNumber: org.clubNumber,
          period: periodText(f),
          type: f.type,
          search: f.search,
          produced: localTime(new Date(), p.timeZone),
          timeZone: p.timeZone,
        },
        lines,
      );
      res.setHeader("Content-Type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet");
      attachment(res, file);
      res.send(book);
    },
  );
  return r.router;
}
