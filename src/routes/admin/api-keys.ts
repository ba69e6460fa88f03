// API keys and the API log (issue 16), for federation finance staff with edit: list keys, make one (its secret
// is shown once, on the answer page, never stored or put in the session), revoke one at once; read the calls.
import { auditActor } from "../../web/audit-actor";
import type { Request, Response } from "express";
import { z } from "zod";
import { requireGlobal } from "../../auth/guards";
import type { Config } from "../../config";
import type { Db } from "../../db/client";
import { AppError } from "../../lib/errors";
import { listApiCalls } from "../../services/api/call-log";
import {
  API_SCOPES,
  type ApiScope,
  createApiKey,
  listApiKeys,
  liveKeys,
  parseExpiryDate,
  revokeApiKey,
} from "../../services/api/keys";
import { flash } from "../../web/flash";
import { fields, inputRouter, optional, textValues } from "../../web/input";

type KeyForm = { name: string; organisation: string; scopes: string[]; expires: string };

// Which scopes exist and whether the expiry is in the future are the service's rules; here each is text.
const keyBody = z.object({
  name: fields.text("Name", { max: 100 }),
  organisation: optional(fields.id("Organisation")),
  scopes: fields.list("Scopes", fields.text("Scope", { max: 40 })),
  expires: optional(fields.date("The expiry date")),
});
const keyParams = z.object({ id: fields.id("API key") });
const logQuery = z.object({ key: optional(fields.id("API key")), before: optional(fields.bigId("Page position")) });

export function apiKeyRoutes(deps: { db: Db; config: Config }) {
  const r = inputRouter();
  const edit = requireGlobal("EDIT");

  const page = async (form: KeyForm, error?: string) => ({
    keys: await listApiKeys(deps.db),
    organisations: await deps.db.organisation.findMany({
      orderBy: { name: "asc" },
      select: { id: true, name: true, clubNumber: true },
    }),
    scopes: API_SCOPES,
    form,
    error,
  });

  r.get("/payments/api-keys", { guard: edit }, async (_req, res) => {
    res.render("admin/api-keys", await page({ name: "", organisation: "", scopes: ["charges:write"], expires: "" }));
  });

  /** The form as typed (text values only), to show again with the refusal. */
  const typed = (req: Request): KeyForm => {
    const values = textValues(req.body);
    const scopes: unknown = req.body?.scopes;
    return {
      name: values.name ?? "",
      organisation: values.organisation ?? "",
      scopes: Array.isArray(scopes)
        ? scopes.filter((s) => typeof s === "string")
        : values.scopes
          ? [values.scopes]
          : [],
      expires: values.expires ?? "",
    };
  };
  const keyRefused = async (req: Request, res: Response, message: string) => {
    res.status(400).render("admin/api-keys", await page(typed(req), message));
  };

  r.post("/payments/api-keys", { guard: edit, body: keyBody, invalid: keyRefused }, async (req, res, { body }) => {
    try {
      const made = await createApiKey(
        deps.db,
        {
          name: body.name,
          organisationId: body.organisation ?? null,
          scopes: body.scopes as ApiScope[],
          expiresAt: parseExpiryDate(body.expires ?? "", deps.config.TIME_ZONE),
          createdByUserId: req.user!.id,
          live: liveKeys(deps.config.STRIPE_SECRET_KEY),
        },
        auditActor(req),
      );
      req.log.info({ actor: req.user!.id, apiKeyId: made.key.id, prefix: made.key.prefix }, "API key created");
      res.set("Cache-Control", "no-store");
      res.status(201).render("admin/api-key-created", { key: made.key, secret: made.secret });
    } catch (e) {
      if (!(e instanceof AppError) || e.status >= 500) throw e;
      res.status(400).render("admin/api-keys", await page(typed(req), e.message));
    }
  });

  r.post("/payments/api-keys/:id/revoke", { guard: edit, params: keyParams }, async (req, res, { params }) => {
    await revokeApiKey(deps.db, params.id, auditActor(req));
    req.log.info({ actor: req.user!.id, apiKeyId: params.id }, "API key revoked");
    flash(req, "success", "The key was revoked; calls with it are refused from now on.");
    res.redirect("/payments/api-keys");
  });

  r.get("/payments/api-log", { guard: edit, query: logQuery }, async (_req, res, { query }) => {
    const keyId = query.key;
    const { rows, nextBefore } = await listApiCalls(deps.db, { keyId, before: query.before });
    res.render("admin/api-log", { rows, nextBefore, keyId });
  });
  return r.router;
}
