// /payments/audit: the audit trail of staff actions (docs/audit.md), filtered, in pages, and as CSV. Finance staff
// (global view) see every row; club officers (view or edit) only the rows of their own clubs.
import type { Request } from "express";
import { z } from "zod";
import { requireLogin } from "../../auth/guards";
import type { Db } from "../../db/client";
import { forbidden } from "../../lib/errors";
import {
  type AuditFilters,
  type AuditScope,
  allAuditRows,
  auditActions,
  auditPage,
} from "../../services/audit/list-audit";
import { actionFamilies } from "../../services/audit/actions";
import { hasGlobal } from "../../services/roles/permissions";
import { localTime } from "../../services/statements/statement-csv";
import { sendCsv } from "../../web/csv-response";
import { downloadName, periodParts } from "../../web/download-name";
import { fields, inputRouter, optional } from "../../web/input";

const filterQuery = z
  .object({
    who: optional(fields.text("Who", { max: 100 })),
    action: optional(fields.text("Action", { max: 60 })),
    target_type: optional(fields.text("Target type", { max: 40 })),
    target_id: optional(fields.text("Target id", { max: 100 })),
    from: optional(fields.date("From date")),
    to: optional(fields.date("To date")),
    page: optional(fields.integer("Page", 999_999)),
    format: optional(fields.oneOf("Format", ["csv"])),
  })
  .refine((q) => !q.from || !q.to || q.from <= q.to, { message: "The start date must not be after the end date." });

const json = (v: unknown) => (v === null || v === undefined ? "" : JSON.stringify(v));

export function auditRoutes(deps: { db: Db; timeZone: string }) {
  const r = inputRouter();

  /** What the signed-in user may see: everything (finance staff) or their clubs' rows; nothing else. */
  const scopeOf = (req: Request): AuditScope => {
    const p = req.user!.permissions;
    if (hasGlobal(p, "VIEW")) return { orgs: "all", timeZone: deps.timeZone };
    const orgs = [...p.orgs.keys()];
    if (orgs.length === 0) throw forbidden("The audit trail is for finance staff and club officers.");
    return { orgs, timeZone: deps.timeZone };
  };

  r.get(
    "/payments/audit",
    {
      guard: requireLogin,
      query: filterQuery,
      invalid: async (req, res, message) => {
        const scope = scopeOf(req);
        res.status(400).render("admin/audit", {
          ...(await auditPage(deps.db, {}, scope, 1)),
          families: actionFamilies(await auditActions(deps.db, scope)),
          q: {},
          page: 1,
          params: "",
          json,
          clubOnly: scope.orgs !== "all",
          error: message,
        });
      },
    },
    async (req, res, { query }) => {
      const scope = scopeOf(req);
      const f: AuditFilters = {
        who: query.who?.trim() || undefined,
        action: query.action?.trim() || undefined,
        targetType: query.target_type?.trim() || undefined,
        targetId: query.target_id?.trim() || undefined,
        from: query.from,
        to: query.to,
      };
      if (query.format === "csv") {
        return sendCsv(
          res,
          downloadName(["audit", ...periodParts(f.from, f.to, deps.timeZone)], "csv"),
          (async function* () {
            yield [
              "Id",
              "When",
              "Who",
              "Action",
              "Target type",
              "Target id",
              "Organisation",
              "Before",
              "After",
              "Request id",
              "Client address",
            ];
            for await (const a of allAuditRows(deps.db, f, scope)) {
              yield [
                a.id,
                localTime(a.occurredAt, deps.timeZone),
                a.actorLabel,
                a.action,
                a.targetType,
                a.targetId,
                a.organisationName,
                json(a.before),
                json(a.after),
                a.requestId,
                a.clientIp,
              ];
            }
          })(),
        );
      }
      const page = Math.max(1, query.page ?? 1);
      const params = new URLSearchParams(
        Object.entries({ ...query, page: undefined, format: undefined }).filter(
          (e): e is [string, string] => typeof e[1] === "string" && e[1] !== "",
        ),
      ).toString();
      res.render("admin/audit", {
        ...(await auditPage(deps.db, f, scope, page)),
        families: actionFamilies(await auditActions(deps.db, scope)),
        q: query,
        page,
        params,
        json,
        clubOnly: scope.orgs !== "all",
      });
    },
  );
  return r.router;
}
