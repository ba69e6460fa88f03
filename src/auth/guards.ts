// Route guards. Every route uses one of these: anonymous users are sent to sign in (and brought back after);
// signed-in users without the right get the 403 page. Every EDIT guard also needs the second factor: the user
// is enrolled and this session gave a code; otherwise pages send them to enrol, other requests get a 403.
import type { NextFunction, Request, RequestHandler, Response } from "express";
import { AppError, forbidden } from "../lib/errors";
import { hasGlobal, hasOrg, type Level } from "../services/roles/permissions";

function wantsHtml(req: Request) {
  return req.method === "GET" && !req.xhr && req.accepts(["html", "json"]) === "html";
}

/** Sends anonymous users to /login?next=<this page>; non-page requests get a plain 401. */
export const requireLogin: RequestHandler = (req: Request, res: Response, next: NextFunction) => {
  if (req.user) return next();
  if (wantsHtml(req)) return res.redirect(`/login?next=${encodeURIComponent(req.originalUrl)}`);
  next(new AppError("NOT_SIGNED_IN", "Please sign in first."));
};

export const SECOND_FACTOR_NEEDED =
  "Payments editing needs two-factor sign-in: set it up on your account's Two-factor sign-in page (/account/two-factor).";

/** Runs after a role check that passed for EDIT. */
export const requireSecondFactor: RequestHandler = (req, res, next) => {
  if (req.user!.twoFactorEnabled && req.session.twoFactorVerified) return next();
  if (wantsHtml(req)) return res.redirect(`/account/two-factor?next=${encodeURIComponent(req.originalUrl)}`);
  next(new AppError("FORBIDDEN", SECOND_FACTOR_NEEDED));
};

/** Federation finance staff (global payments role). */
export const requireGlobal = (level: Level) => [
  requireLogin,
  (req: Request, _res: Response, next: NextFunction) => {
    const perms = req.user!.permissions;
    if (hasGlobal(perms, level)) return next();
    // A finance viewer reaching an editing page is finance staff all the same: say what is missing.
    next(
      forbidden(
        level === "EDIT" && hasGlobal(perms, "VIEW")
          ? "This needs federation finance editing rights; your role lets you view these pages, not change them."
          : "This page is for federation finance staff.",
      ),
    );
  },
  ...(level === "EDIT" ? [requireSecondFactor] : []),
];

/**
 * Officers of the organisation named by the route parameter (default `orgId`), or finance staff.
 * A malformed id is a 404, never a crash.
 */
export const requireOrg = (level: Level, param = "orgId") => [
  requireLogin,
  (req: Request, _res: Response, next: NextFunction) => {
    const raw = String(req.params[param] ?? "");
    const orgId = /^\d{1,9}$/.test(raw) ? Number(raw) : Number.NaN;
    if (!Number.isInteger(orgId) || orgId <= 0) {
      return next(new AppError("NOT_FOUND", "That organisation does not exist."));
    }
    next(hasOrg(req.user!.permissions, orgId, level) ? undefined : forbidden("This page is for the club's officers."));
  },
  ...(level === "EDIT" ? [requireSecondFactor] : []),
];
