// /api/v1: the payments API for the federation's other systems (docs/api.md). JSON only; each call carries its
// key as `Authorization: Bearer …`. Thin routes: the use cases live in src/services/api/.
import type { IncomingMessage, ServerResponse } from "node:http";
import express, { type Request, Router } from "express";
import type { Config } from "../../config";
import type { Db } from "../../db/client";
import type { Logger } from "../../lib/logger";
import { cancelApiIou, createApiIou, readIou } from "../../services/api/api-ious";
import type { ApiServices } from "../../services/api/api-services";
import { runBatch } from "../../services/api/batch-charges";
import type { CallLogWriter } from "../../services/api/call-log";
import type { ChargeGroupWriter } from "../../services/api/charge-group";
import { checkChargeScopes, runCharge } from "../../services/api/charges";
import { IdempotencyStore } from "../../services/api/idempotency";
import { ApiKeyCache } from "../../services/api/keys";
import { buildOpenApiDocument } from "../../services/api/openapi";
import { problem } from "../../services/api/problem";
import { getCharge, getMember, listCharges } from "../../services/api/reads";
import { refundCharge } from "../../services/api/refunds";
import { batchRequest, chargeRequest, iouRequest, listChargesQuery, refundRequest } from "../../services/api/schemas";
import {
  apiErrorHandler,
  apiNotFound,
  authenticate,
  callerOf,
  callLog,
  idempotentPost,
  parseApi,
  perKeyRateLimit,
  requireScope,
  sendJson,
} from "./api-middleware";

export const API_BODY_LIMIT = "1mb";

export function apiV1Routes(deps: {
  db: Db;
  services: ApiServices;
  config: Config;
  logger: Logger;
  callLog: CallLogWriter;
  /** Where POST /charges books the charges it can in shared transactions. */
  chargeGroup: ChargeGroupWriter;
  /** Gives the request its id (and sends it back as X-Request-Id), as for every other request. */
  requestId: (req: IncomingMessage, res: ServerResponse) => string;
}) {
  const s = deps.services;
  const store = new IdempotencyStore(s.p.pool, deps.config.API_IDEMPOTENCY_LEASE_SECONDS * 1000);
  const openapi = JSON.stringify(buildOpenApiDocument());
  const r = Router();

  r.use(callLog(deps.callLog, deps.logger, deps.requestId));
  r.get("/openapi.json", (_req, res) => {
    res.type("application/json").send(openapi);
  });
  r.use(authenticate(s.p.pool, new ApiKeyCache()));
  r.use(perKeyRateLimit(s.p.pool, deps.config.API_RATE_LIMIT_PER_MINUTE));
  r.use(
    express.json({
      limit: API_BODY_LIMIT,
      // The idempotency fingerprint is over the bytes sent.
      verify: (req, _res, buf) => {
        (req as Request & { rawBody?: Buffer }).rawBody = buf;
      },
    }),
  );

  r.post(
    "/charges",
    idempotentPost(
      store,
      chargeRequest,
      async (caller, body, key) => {
        const out = await runCharge(s, caller, body, `api:${key}`);
        return { status: out.status, body: out.charge };
      },
      checkChargeScopes,
      (caller, req, idempotencyKey, fingerprint) =>
        deps.chargeGroup.submit({ caller, req, idempotencyKey, fingerprint }),
    ),
  );
  r.post(
    "/charges/batch",
    idempotentPost(
      store,
      batchRequest,
      async (caller, body, key) => ({
        status: 200,
        body: { object: "list", data: await runBatch(s, caller, body.charges, `api:${key}`) },
      }),
      (caller, body) => {
        for (const item of body.charges) checkChargeScopes(caller, item);
      },
    ),
  );
  r.get("/charges", requireScope("read", "charges:write"), async (req, res) => {
    sendJson(res, 200, await listCharges(s, callerOf(res), parseApi(listChargesQuery, req.query)));
  });
  r.get("/charges/:id", requireScope("read", "charges:write"), async (req, res) => {
    sendJson(res, 200, await getCharge(s, callerOf(res), String(req.params.id)));
  });

  r.post(
    "/refunds",
    requireScope("refunds:write"),
    idempotentPost(store, refundRequest, async (caller, body, key) => ({
      status: 201,
      body: await refundCharge(s, caller, body, `api-refund:${key}`),
    })),
  );

  r.post(
    "/ious",
    requireScope("ious:write"),
    idempotentPost(store, iouRequest, async (caller, body, key) => ({
      status: 201,
      body: await createApiIou(s, caller, body, `api-iou:${key}`),
    })),
  );
  r.get("/ious/:id", requireScope("read", "ious:write"), async (req, res) => {
    sendJson(res, 200, await readIou(s, callerOf(res), String(req.params.id)));
  });
  r.delete("/ious/:id", requireScope("ious:write"), async (req, res) => {
    sendJson(res, 200, await cancelApiIou(s, callerOf(res), String(req.params.id)));
  });

  r.get("/members/:abf", async (req, res) => {
    const raw = String(req.params.abf);
    const abf = /^\d{1,10}$/.test(raw) && Number(raw) <= 2_147_483_647 ? Number(raw) : null;
    if (abf === null || abf === 0) throw problem("member_not_found", `No member has ABF number ${raw}.`);
    sendJson(res, 200, await getMember(s, callerOf(res), abf));
  });

  r.use(apiNotFound);
  r.use(apiErrorHandler(deps.logger));
  return r;
}
