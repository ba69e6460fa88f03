// Synchroniser-token CSRF protection: one random token per session, sent back by every state-changing request
// as the `_csrf` form field or the `X-CSRF-Token` header (fetch and htmx). Only paths listed as exempt (Stripe's
// webhook, which proves itself with a signature instead) skip the check.
import { randomBytes, timingSafeEqual } from "node:crypto";
import type { NextFunction, Request, Response } from "express";
import { AppError } from "../lib/errors";

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

export function csrfToken(req: Request): string {
  if (!req.session.csrfToken) req.session.csrfToken = randomBytes(32).toString("base64url");
  return req.session.csrfToken;
}

function sameToken(a: string, b: string) {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export function csrfProtection(exemptPaths: string[] = []) {
  const exempt = new Set(exemptPaths);
  return (req: Request, res: Response, next: NextFunction) => {
    if (SAFE_METHODS.has(req.method) || exempt.has(req.path)) {
      res.locals.csrfToken = csrfToken(req);
      return next();
    }
    const expected = req.session.csrfToken;
    const sent = (req.body as Record<string, unknown> | undefined)?._csrf ?? req.get("x-csrf-token");
    if (!expected || typeof sent !== "string" || !sameToken(expected, sent)) {
      return next(
        new AppError(
          "CSRF",
          "This form has expired or did not come from this site. Reload the page and try again.",
          "missing or wrong CSRF token",
        ),
      );
    }
    res.locals.csrfToken = expected;
    next();
  };
}
