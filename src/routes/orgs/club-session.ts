// The club's "Charge a session" page (issue 16): officers with edit on the club (or finance editors) paste ABF
// numbers and amounts, or load a CSV file into the same box (public/js/session-file.js; without a script, paste
// its text) → preview (nothing booked) → confirm (once per form) → results and their CSV.
import { randomUUID } from "node:crypto";
import type { Request, Response } from "express";
import { z } from "zod";
import { requireOrg } from "../../auth/guards";
import { badInput, notFound } from "../../lib/errors";
import type { ApiServices } from "../../services/api/api-services";
import {
  confirmSession,
  previewSession,
  recentSessionBatches,
  type SessionForm,
  sessionBatch,
} from "../../services/orgs/session-charges";
import { MAX_DESCRIPTION, parseSessionRows, type RowProblem } from "../../services/orgs/session-rows";
import { getOrganisation } from "../../services/orgs/list-organisations";
import { localTime } from "../../services/statements/statement-csv";
import { amountCell, sendCsv } from "../../web/csv-response";
import { downloadName } from "../../web/download-name";
import { auditActor, recordExport } from "../../web/audit-actor";
import { flash } from "../../web/flash";
import { fields, formValues, inputRouter, optional } from "../../web/input";

const base = (id: number | ":orgId") => `/payments/club-session/${id}`;
const orgParams = z.object({ orgId: fields.id("Organisation") });
const batchParams = orgParams.extend({ batchId: fields.id("Session") });
const FORM_FIELDS = ["rows", "description", "reference"] as const;
// The lengths the page asks for are checked with the rows (every problem listed together); these bound the input.
const sessionBody = z.object({
  rows: optional(fields.text("Lines", { max: 100_000, multiline: true })),
  description: optional(fields.text("Session description", { max: 1_000 })),
  reference: optional(fields.text("Reference", { max: 1_000 })),
});
const confirmBody = sessionBody.extend({ request_id: fields.requestId() });

interface FormFields {
  rows: string;
  description: string;
  reference: string;
}

const fieldsOf = (body: z.output<typeof sessionBody>): FormFields => ({
  // Browsers send a textarea's line breaks as CRLF; the page shows them back as plain newlines.
  rows: (body.rows ?? "").replace(/\r\n?/g, "\n"),
  description: (body.description ?? "").trim(),
  reference: (body.reference ?? "").trim(),
});

/** The form's rows and its description and reference, or every problem found (by line where there is one). */
function readForm(organisationId: number, f: FormFields): { form: SessionForm } | { problems: RowProblem[] } {
  const { rows, problems } = parseSessionRows(f.rows);
  if (f.description === "") problems.unshift({ line: 0, message: "Give the session a description." });
  if (f.description.length > MAX_DESCRIPTION) {
    problems.unshift({ line: 0, message: `The description must be at most ${MAX_DESCRIPTION} characters.` });
  }
  if (f.reference.length > 100) problems.unshift({ line: 0, message: "The reference must be at most 100 characters." });
  if (problems.length) return { problems };
  return { form: { organisationId, rows, description: f.description, reference: f.reference || null } };
}

export function clubSessionRoutes(deps: { services: ApiServices }) {
  const s = deps.services;
  const db = s.p.db;
  const r = inputRouter();
  const edit = { guard: requireOrg("EDIT"), params: orgParams };

  const openClub = async (orgId: number) => {
    const org = await getOrganisation(db, orgId);
    if (org.status === "CLOSED") throw badInput(`${org.name} is closed: it cannot charge a session.`);
    return org;
  };

  const entryPage = async (orgId: number, res: Response, fields: FormFields, problems: RowProblem[] = []) => {
    const org = await getOrganisation(db, orgId);
    res.setHeader("Cache-Control", "no-store");
    res.status(problems.length ? 400 : 200).render("orgs/session-charge", {
      org,
      fields,
      problems,
      recent: await recentSessionBatches(s, org.id),
    });
  };
  // A field the input layer refused (text with control characters, far too long): the form again, with it.
  const refused = async (req: Request, res: Response, message: string) => {
    const typed = formValues(req.body, FORM_FIELDS);
    await entryPage(Number(req.params.orgId), res, typed, [{ line: 0, message }]);
  };

  r.get(base(":orgId"), edit, async (_req, res, { params }) => {
    await entryPage(params.orgId, res, { rows: "", description: "", reference: "" });
  });

  // "Change the lines" on the preview: the entry form again, filled in.
  r.post(base(":orgId"), { ...edit, body: sessionBody, invalid: refused }, async (_req, res, { params, body }) => {
    await entryPage(params.orgId, res, fieldsOf(body));
  });

  r.post(
    `${base(":orgId")}/preview`,
    { ...edit, body: sessionBody, invalid: refused },
    async (_req, res, { params, body }) => {
      const org = await openClub(params.orgId);
      const fields = fieldsOf(body);
      const read = readForm(org.id, fields);
      if ("problems" in read) return entryPage(org.id, res, fields, read.problems);
      // Never from the browser's cache: a page shown again by "Back" would carry a form already used.
      res.setHeader("Cache-Control", "no-store");
      res.render("orgs/session-preview", {
        org,
        fields,
        preview: await previewSession(s, read.form),
        requestId: randomUUID(),
      });
    },
  );

  r.post(
    `${base(":orgId")}/confirm`,
    { ...edit, body: confirmBody, invalid: refused },
    async (req, res, { params, body }) => {
      const org = await openClub(params.orgId);
      const fields = fieldsOf(body);
      const read = readForm(org.id, fields);
      if ("problems" in read) return entryPage(org.id, res, fields, read.problems);
      const form = { ...read.form, requestId: body.request_id, actorUserId: req.user!.id };
      const done = await confirmSession(s, form, auditActor(req));
      req.log.info(
        { actor: req.user!.id, organisationId: org.id, batchId: done.batchId, state: done.state },
        "session charged",
      );
      if (done.state === "already_booked") {
        flash(req, "info", "These charges were already booked: nothing new was charged.");
      }
      res.redirect(`${base(org.id)}/batch/${done.batchId}`);
    },
  );

  const batchRoute = { guard: requireOrg("EDIT"), params: batchParams };

  r.get(`${base(":orgId")}/batch/:batchId`, batchRoute, async (_req, res, { params }) => {
    const [org, batch] = await Promise.all([
      getOrganisation(db, params.orgId),
      sessionBatch(s, params.orgId, params.batchId),
    ]);
    const results = batch.results ?? [];
    const sum = (o: string) => results.filter((x) => x.outcome === o).reduce((t, x) => t + x.amountCents, 0);
    const count = (o: string) => results.filter((x) => x.outcome === o).length;
    res.render("orgs/session-results", {
      org,
      batch,
      results,
      totals: {
        collectedCents: sum("paid") + sum("topped_up"),
        iouCents: sum("iou"),
        paid: count("paid"),
        toppedUp: count("topped_up"),
        iou: count("iou"),
        notCharged: count("unknown_member") + count("inactive_member") + count("failed"),
      },
    });
  });

  r.get(`${base(":orgId")}/batch/:batchId/csv`, batchRoute, async (req, res, { params }) => {
    const [org, batch] = await Promise.all([
      getOrganisation(db, params.orgId),
      sessionBatch(s, params.orgId, params.batchId),
    ]);
    if (!batch.results) throw notFound("These charges are still being booked: download them once they are done.");
    const day = localTime(batch.createdAt, s.p.timeZone).slice(0, 10);
    const file = downloadName(["session-charges", org.clubNumber, day, batch.id], "csv");
    await recordExport(s.p.db, req, { file, targetType: "session_charge_batch", targetId: batch.id, orgId: org.id });
    await sendCsv(
      res,
      file,
      (function* () {
        yield [
          "line",
          "abf_number",
          "name",
          "amount",
          "description",
          "result",
          "charge",
          "posting_reference",
          "top_up",
          "iou",
          "message",
        ];
        for (const x of batch.results!) {
          yield [
            x.line,
            x.member,
            x.name,
            amountCell(BigInt(x.amountCents)),
            x.description,
            x.outcome,
            x.charge,
            x.postingReference,
            x.topUpCents === null ? null : amountCell(BigInt(x.topUpCents)),
            x.iou,
            x.message,
          ];
        }
      })(),
    );
  });
  return r.router;
}
