// The statistics page (issue 19 item 3): the status summary, the period's figures and charts. Finance staff (global
// view) see the federation at /payments/statistics; a club's officers (and finance staff) see that club's at
// /payments/org-statistics/:orgId. The period comes from the query; a bad one is a 400 page with the message and
// the period form, nothing computed.
import type { Request, Response } from "express";
import { z } from "zod";
import { requireGlobal, requireOrg } from "../../auth/guards";
import { AppError } from "../../lib/errors";
import { getOrganisation } from "../../services/orgs/list-organisations";
import type { Payments } from "../../services/payments/context";
import { SMALLEST_CLUB_BIN } from "../../services/statistics/charts";
import { PERIOD_PRESETS, type PeriodPreset, resolvePeriod } from "../../services/statistics/period";
import type { StatisticsScope } from "../../services/statistics/scope";
import { statisticsPage } from "../../services/statistics/statistics-page";
import { wantsJson } from "../../web/error-handler";
import { fields, inputRouter, optional } from "../../web/input";

const PRESETS = Object.keys(PERIOD_PRESETS) as PeriodPreset[];
const statisticsQuery = z.object({
  period: optional(fields.oneOf("Period", PRESETS)),
  from: optional(fields.date("From date")),
  to: optional(fields.date("To date")),
});
const params = z.object({ orgId: fields.id("Organisation") });

/** The period form's values as typed (text only), to show them again beside a refusal. */
function typed(req: Request) {
  const q = req.query as Record<string, unknown>;
  const text = (v: unknown) => (typeof v === "string" && v.length <= 20 ? v : "");
  return { period: text(q.period), from: text(q.from), to: text(q.to) };
}

export function statisticsRoutes(deps: { payments: Payments }) {
  const p = deps.payments;
  const r = inputRouter();

  const refuse = (res: Response, req: Request, message: string, org: { id: number; name: string } | null) =>
    res.status(400).render("admin/statistics", { error: message, org, q: typed(req), presets: PRESETS });

  const show = async (
    req: Request,
    res: Response,
    query: z.output<typeof statisticsQuery>,
    scope: StatisticsScope,
    org: { id: number; name: string } | null,
  ) => {
    let period: ReturnType<typeof resolvePeriod>;
    try {
      period = resolvePeriod(query, p.timeZone);
    } catch (e) {
      if (e instanceof AppError && e.code === "BAD_INPUT" && !wantsJson(req)) return refuse(res, req, e.message, org);
      throw e;
    }
    const page = await statisticsPage(p, period, scope);
    res.render("admin/statistics", {
      ...page,
      org,
      period,
      q: { period: period.preset ?? "", from: query.from ?? "", to: query.to ?? "" },
      presets: PRESETS,
      smallestClubBin: SMALLEST_CLUB_BIN,
      // Inside <script type="application/json">: no "<" may close the element early.
      chartData: JSON.stringify(page.charts).replace(/</g, "\\u003c"),
    });
  };

  r.get(
    "/payments/statistics",
    { guard: requireGlobal("VIEW"), query: statisticsQuery, invalid: (req, res, m) => refuse(res, req, m, null) },
    (req, res, { query }) => show(req, res, query, { kind: "federation" }, null),
  );

  r.get(
    "/payments/org-statistics/:orgId",
    {
      guard: requireOrg("VIEW"),
      params,
      query: statisticsQuery,
      invalid: async (req, res, m) => refuse(res, req, m, await getOrganisation(p.db, Number(req.params.orgId))),
    },
    async (req, res, { params, query }) => {
      const org = await getOrganisation(p.db, params.orgId);
      await show(req, res, query, { kind: "club", organisationId: org.id }, org);
    },
  );
  return r.router;
}
