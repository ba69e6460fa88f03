// Limits failed sign-ins: per address and per account, counted over a fixed window. Successful sign-ins do not
// count. Counted in PostgreSQL (shared-rate-limit.ts), so N app processes allow the same few tries as one.
// The same rule, with its own counters, limits wrong two-factor codes (per user and per address).
import type { Request, Response } from "express";
import { rateLimit } from "express-rate-limit";
import type pg from "pg";
import { PgRateLimitStore } from "./shared-rate-limit";

export type OnLimited = (req: Request, res: Response, message: string) => void;

function failureThrottles(
  pool: pg.Pool,
  prefix: string,
  maxFailures: number,
  windowMinutes: number,
  what: string,
  accountKey: (req: Request) => string,
  onLimited: OnLimited,
) {
  const message = `Too many failed ${what}. Please wait ${windowMinutes} minutes and try again.`;
  const common = {
    windowMs: windowMinutes * 60_000,
    skipSuccessfulRequests: true, // a refusal answers 4xx, a success redirects
    standardHeaders: "draft-8" as const,
    legacyHeaders: false,
    handler: (req: Request, res: Response) => onLimited(req, res, message),
  };
  const perAccount = rateLimit({
    ...common,
    store: new PgRateLimitStore(pool, `${prefix}-account:`),
    limit: maxFailures,
    keyGenerator: accountKey,
  });
  // An address may try a few accounts (a shared club computer), but not sweep through many.
  const perAddress = rateLimit({
    ...common,
    store: new PgRateLimitStore(pool, `${prefix}-address:`),
    limit: maxFailures * 4,
  });
  return [perAddress, perAccount];
}

export function loginThrottles(pool: pg.Pool, maxFailures: number, windowMinutes: number, onLimited: OnLimited) {
  // Runs before the input layer checks the form: anything but text counts as no identifier.
  return failureThrottles(
    pool,
    "login",
    maxFailures,
    windowMinutes,
    "sign-in attempts",
    (req) => {
      const id: unknown = req.body?.identifier;
      return `acct:${(typeof id === "string" ? id : "").trim().toLowerCase().slice(0, 254)}`;
    },
    onLimited,
  );
}

/** `userId`: whose code is being tried (the pending sign-in's user, or the signed-in user). */
export function codeThrottles(
  pool: pg.Pool,
  maxFailures: number,
  windowMinutes: number,
  userId: (req: Request) => number | undefined,
  onLimited: OnLimited,
) {
  return failureThrottles(
    pool,
    "code",
    maxFailures,
    windowMinutes,
    "two-factor codes",
    (req) => `user:${userId(req) ?? "-"}`,
    onLimited,
  );
}
