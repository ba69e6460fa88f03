// The API's own middleware: Bearer-key authentication, the per-key rate limit, the call log, idempotent POSTs
// and problem+json errors. No session, no CSRF: a key authenticates each call.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { NextFunction, Request, RequestHandler, Response } from "express";
import type pg from "pg";
import type { z } from "zod";
import { AppError } from "../../lib/errors";
import type { Logger } from "../../lib/logger";
import type { CallLogWriter } from "../../services/api/call-log";
import {
  type IdempotencyStore,
  JSON_TYPE,
  requestFingerprint,
  type StoredResponse,
} from "../../services/api/idempotency";
import { type ApiCaller, type ApiKeyCache, type ApiScope, authenticateApiKey } from "../../services/api/keys";
import { ApiProblem, problem } from "../../services/api/problem";
import { CardGatewayError } from "../../services/payments/card-gateway";
import { RateBudget } from "../../services/api/rate-budget";

const PROBLEM_TYPE = "application/problem+json";

export const callerOf = (res: Response): ApiCaller => res.locals.apiCaller as ApiCaller;

function send(res: Response, r: StoredResponse) {
  res.status(r.status).type(r.contentType).send(r.body);
}

export function sendJson(res: Response, status: number, body: unknown) {
  send(res, { status, contentType: JSON_TYPE, body: JSON.stringify(body) });
}

const problemResponse = (p: ApiProblem): StoredResponse => ({
  status: p.status,
  contentType: PROBLEM_TYPE,
  body: JSON.stringify(p.body()),
});

/**
 * The call's request id, its api_call_log row (handed to the writer once the answer has gone out: every call,
 * refusals included) and its log line. The API is mounted before pino-http and logs here instead: one small
 * object per call rather than the request and response with every header, serialised and redacted.
 */
export function callLog(
  writer: CallLogWriter,
  logger: Logger,
  requestId: (req: IncomingMessage, res: ServerResponse) => string,
): RequestHandler {
  return (req, res, next) => {
    const started = performance.now();
    req.id = requestId(req, res);
    res.on("finish", () => {
      const ms = Math.round(performance.now() - started);
      const apiKeyId = (res.locals.apiCaller as ApiCaller | undefined)?.keyId ?? null;
      writer.add({
        apiKeyId,
        method: req.method,
        route: (req.route ? `/api/v1${req.route.path}` : req.originalUrl.split("?")[0]!).slice(0, 200),
        status: res.statusCode,
        requestId: String(req.id),
        idempotencyKey: (res.locals.idempotencyKey as string | undefined) ?? null,
        replayed: res.locals.replayed === true,
        durationMs: ms,
      });
      if (logger.isLevelEnabled("info")) {
        const msg = `${req.method} ${req.originalUrl} ${res.statusCode} ${ms} ms`;
        // pino-http's field names (log collectors and the readable form's hidden fields expect them).
        const fields = { reqId: req.id, res: { statusCode: res.statusCode }, responseTime: ms, apiKeyId };
        if (res.statusCode >= 500) logger.error(fields, msg);
        else logger.info(fields, msg);
      }
    });
    next();
  };
}

const keyRefusal = (reason: "malformed" | "unknown" | "revoked" | "expired") =>
  problem(
    "unauthorized",
    reason === "revoked"
      ? "This API key has been revoked."
      : reason === "expired"
        ? "This API key has expired."
        : "Unknown API key.",
  );

/**
 * `Authorization: Bearer <key>`; revocation and expiry take effect on the next call. Every call reads the key
 * from the database, except POST /charges with a key this process verified before (ApiKeyCache): that call's
 * charge group checks the key again in its claim statement, and any other outcome of the call first verifies
 * the key in full (`verifyDeferredKey`), so a revoked key's call books nothing and is answered 401.
 */
export function authenticate(pool: pg.Pool, cache: ApiKeyCache): RequestHandler {
  return async (req, res, next) => {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(req.get("authorization") ?? "");
    res.set("WWW-Authenticate", 'Bearer realm="api"');
    if (!m) return next(problem("unauthorized", "Send your API key as Authorization: Bearer <key>."));
    const presented = m[1]!;
    const cached = req.method === "POST" && req.path === "/charges" ? cache.get(presented) : null;
    if (cached) {
      res.locals.apiCaller = cached;
      res.locals.verifyKey = async () => {
        res.locals.verifyKey = undefined;
        const check = await authenticateApiKey(pool, presented);
        if (check.ok) return;
        cache.forget(presented);
        res.locals.apiCaller = undefined; // logged as a refused call, as on the uncached path
        res.set("WWW-Authenticate", 'Bearer realm="api"');
        throw keyRefusal(check.reason);
      };
    } else {
      const check = await authenticateApiKey(pool, presented);
      if (!check.ok) return next(keyRefusal(check.reason));
      cache.remember(presented, check.caller, check.expiresAt);
      res.locals.apiCaller = check.caller;
    }
    res.removeHeader("WWW-Authenticate");
    next();
  };
}

/** A call let in on a cached key: verifies the key now (throws the 401 problem if it was revoked or expired). */
export async function verifyDeferredKey(res: Response) {
  await (res.locals.verifyKey as (() => Promise<void>) | undefined)?.();
}

/**
 * The per-key limit, counted in PostgreSQL across every app process and spent locally in chunks (rate-budget.ts,
 * which states the exact semantics). 429 with Retry-After once a key's budget for the minute is spent.
 */
export function perKeyRateLimit(pool: pg.Pool, limitPerMinute: number): RequestHandler {
  const budget = new RateBudget(pool, "api:", limitPerMinute);
  return async (_req, res, next) => {
    const waitMs = await budget.take(`key:${callerOf(res).keyId}`);
    if (waitMs === null) return next();
    const seconds = Math.max(1, Math.ceil(waitMs / 1000));
    res.set("Retry-After", String(seconds));
    next(problem("rate_limited", `At most ${limitPerMinute} calls a minute per key; try again in ${seconds} s.`));
  };
}

/** Needs any one of `scopes`. */
export function requireScope(...scopes: ApiScope[]): RequestHandler {
  return (_req, res, next) => {
    const caller = callerOf(res);
    if (scopes.some((s) => caller.scopes.includes(s))) return next();
    next(problem("forbidden_scope", `This call needs the ${scopes.join(" or ")} scope.`));
  };
}

/** Parses with a schema from schemas.ts; a refusal names each field and what is wrong with it. */
export function parseApi<T extends z.ZodType>(schema: T, input: unknown): z.output<T> {
  const r = schema.safeParse(input);
  if (r.success) return r.data;
  const detail = r.error.issues
    .slice(0, 10)
    .map((i) => `${i.path.length ? i.path.join(".") : "body"}: ${issueText(i)}`)
    .join("; ");
  throw problem("invalid_request", detail);
}

/**
 * A refusal in words an integrator reads: zod's own for a missing or wrongly typed field is "Invalid input:
 * expected string, received undefined"; the schemas' own messages ("must be more than zero") stay as written.
 */
function issueText(i: z.core.$ZodIssue): string {
  if (i.code !== "invalid_type") return i.message;
  if (/received undefined$/.test(i.message)) return "is required";
  const kind = String(i.expected);
  return `must be ${/^[aeiou]/.test(kind) ? "an" : "a"} ${kind}`;
}

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,100}$/;

/**
 * A POST with Stripe's idempotency: validated, claimed under its Idempotency-Key, run, and its answer stored (a
 * problem the request ran into, such as 402, is an answer too). `run` gets the key to derive ledger keys from.
 * `grouped`, when given, may do all of that itself in a shared transaction (POST /charges: charge-group.ts) and
 * answer the stored answer; when it answers null the request goes the step-by-step way.
 */
export function idempotentPost<T extends z.ZodType>(
  store: IdempotencyStore,
  schema: T,
  run: (caller: ApiCaller, body: z.output<T>, requestKey: string) => Promise<{ status: number; body: unknown }>,
  before?: (caller: ApiCaller, body: z.output<T>) => void,
  grouped?: (caller: ApiCaller, body: z.output<T>, key: string, fingerprint: string) => Promise<StoredResponse | null>,
): RequestHandler {
  return async (req, res) => {
    if (!req.is(JSON_TYPE))
      throw problem("unsupported_media_type", "Send a JSON body (Content-Type: application/json).");
    const key = req.get("idempotency-key");
    if (!key || !IDEMPOTENCY_KEY.test(key)) {
      throw problem("invalid_request", "An Idempotency-Key header (1 to 100 printable characters) is required.");
    }
    res.locals.idempotencyKey = key;
    const caller = callerOf(res);
    const body = parseApi(schema, req.body);
    before?.(caller, body);
    const raw = (req as Request & { rawBody?: Buffer }).rawBody ?? Buffer.alloc(0);
    const fingerprint = requestFingerprint(req.method, req.originalUrl, raw);
    const done = grouped ? await grouped(caller, body, key, fingerprint) : null;
    if (done) return send(res, done);
    await verifyDeferredKey(res);
    const claim = await store.claim(caller.keyId, key, fingerprint);
    if (claim.kind === "conflict") {
      throw problem("idempotency_conflict", "This Idempotency-Key was already used with a different request.");
    }
    if (claim.kind === "in_progress") {
      throw problem("idempotency_in_progress", "A request with this Idempotency-Key is still running; retry later.");
    }
    if (claim.kind === "replay") {
      res.locals.replayed = true;
      res.set("Idempotent-Replayed", "true");
      return send(res, claim.response);
    }
    let answer: StoredResponse;
    try {
      const out = await run(caller, body, `${caller.keyId}:${key}`);
      answer = { status: out.status, contentType: JSON_TYPE, body: JSON.stringify(out.body) };
    } catch (e) {
      const known = asProblem(e);
      if (!known || known.status >= 500) {
        await claim.lease.release(); // our failure: a retry runs it again (the ledger keys keep it to one booking)
        throw e;
      }
      answer = problemResponse(known);
    }
    await claim.lease.complete(answer);
    send(res, answer);
  };
}

/** A refusal we understand, as a problem; null for an unexpected failure. */
function asProblem(err: unknown): ApiProblem | null {
  if (err instanceof ApiProblem) return err;
  if (err instanceof AppError) {
    const code = (
      {
        BAD_INPUT: "invalid_request",
        NOT_FOUND: "not_found",
        FORBIDDEN: "forbidden_scope",
        CONFLICT: "conflict",
        TOO_LARGE: "request_too_large",
        RATE_LIMITED: "rate_limited",
        UNAVAILABLE: "card_processor_unavailable",
      } as const
    )[err.code as "BAD_INPUT"];
    return code ? problem(code, err.message) : null;
  }
  if (err instanceof CardGatewayError) {
    return problem("card_processor_unavailable", "The card processor did not answer just now; please retry.");
  }
  const e = err as { type?: string; status?: number };
  if (e?.type === "entity.too.large") return problem("request_too_large", "The body is larger than 1 MB.");
  if (e?.type === "entity.parse.failed") return problem("invalid_request", "The body is not valid JSON.");
  if (e?.status === 400 || e?.type === "encoding.unsupported" || e?.type === "charset.unsupported") {
    return problem("invalid_request", "The request could not be read.");
  }
  return null;
}

export function apiNotFound(req: Request, _res: Response, next: NextFunction) {
  next(problem("not_found", `No API route ${req.method} ${req.originalUrl.split("?")[0]}.`));
}

/** Every API error as application/problem+json; an unexpected one is logged and answered 500, never a trace. */
export function apiErrorHandler(logger: Logger) {
  return async (err: unknown, req: Request, res: Response, _next: NextFunction) => {
    // A call let in on a cached key is refused as 401 if the key was revoked, whatever else went wrong.
    err = await verifyDeferredKey(res).then(
      () => err,
      (refused: unknown) => refused,
    );
    let p = asProblem(err);
    if (!p) {
      logger.error({ err, reqId: req.id }, "unhandled API error");
      p = problem(
        "internal_error",
        "Something went wrong on our side; it has been logged. A retry with the same Idempotency-Key is safe.",
        {
          request_id: String(req.id ?? ""),
        },
      );
    }
    if (res.headersSent) return res.end();
    send(res, problemResponse(p));
  };
}
