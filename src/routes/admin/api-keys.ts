// API keys and the API log (issue 16), for federation finance staff with edit: list keys, make one (its secret
// is shown once, on the answer page, never stored or put in the session), revoke one at once; read the calls.
import { Router } from "express";
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

type KeyForm = { name: string; organisation: string; scopes: string[]; expires: string };

const idOf = (raw: unknown) => (/^\d{1,9}$/.test(String(raw)) ? Number(raw) : -1);

export function apiKeyRoutes(deps: { db: Db; config: Config }) {
  const r = Router();
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

  r.get("/payments/api-keys", ...edit, async (_req, res) => {
    res.render("admin/api-keys", await page({ name: "", organisation: "", scopes: ["charges:write"], expires: "" }));
  });

  r.post("/payments/api-keys", ...edit, async (req, res) => {
    const b = req.body ?? {};
    const scopes = ([] as unknown[]).concat(b.scopes ?? []).map(String);
    const form: KeyForm = {
      name: String(b.name ?? ""),
      organisation: String(b.organisation ?? ""),
      scopes,
      expires: String(b.expires ?? ""),
    };
    try {
      const made = await createApiKey(deps.db, {
        name: form.name,
        organisationId: form.organisation === "" ? null : idOf(form.organisation),
        scopes: scopes as ApiScope[],
        expiresAt: parseExpiryDate(form.expires, deps.config.TIME_ZONE),
        createdByUserId: req.user!.id,
        live: liveKeys(deps.config.STRIPE_SECRET_KEY),
      });
      req.log.info({ actor: req.user!.id, apiKeyId: made.key.id, prefix: made.key.prefix }, "API key created");
      res.set("Cache-Control", "no-store");
      res.status(201).render("admin/api-key-created", { key: made.key, secret: made.secret });
    } catch (e) {
      if (!(e instanceof AppError) || e.status >= 500) throw e;
      res.status(400).render("admin/api-keys", await page(form, e.message));
    }
  });

  r.post("/payments/api-keys/:id/revoke", ...edit, async (req, res) => {
    await revokeApiKey(deps.db, idOf(req.params.id));
    req.log.info({ actor: req.user!.id, apiKeyId: req.params.id }, "API key revoked");
    flash(req, "success", "The key was revoked; calls with it are refused from now on.");
    res.redirect("/payments/api-keys");
  });

  r.get("/payments/api-log", ...edit, async (req, res) => {
    const keyId = req.query.key ? idOf(req.query.key) : undefined;
    const before = /^\d{1,18}$/.test(String(req.query.before ?? "")) ? BigInt(String(req.query.before)) : undefined;
    const { rows, nextBefore } = await listApiCalls(deps.db, { keyId, before });
    res.render("admin/api-log", { rows, nextBefore, keyId });
  });
  return r;
}
