// Sign in, sign out and change password. Failed sign-ins all get the same message, whatever went wrong.
import type pg from "pg";
import { z } from "zod";
import { requireLogin } from "../../auth/guards";
import { startPendingSignIn, startSession } from "../../auth/sign-in";
import type { Request, Response } from "express";
import type { createPassport } from "../../auth/passport";
import type { SessionUser } from "../../auth/session-user";
import type { Config } from "../../config";
import type { Db } from "../../db/client";
import { AppError } from "../../lib/errors";
import { holdsAnyEdit } from "../../services/roles/permissions";
import { changePassword, endSessions } from "../../services/users/change-password";
import { flash } from "../../web/flash";
import { accept, fields, inputRouter, optional } from "../../web/input";
import { loginThrottles } from "../../web/login-throttle";

export const LOGIN_FAILED = "Those sign-in details are not right. Check your ABF number or e-mail and your password.";

/** Only same-site paths may be a post-login destination (no //evil.example or /\evil.example). */
export function safeNext(raw: unknown): string {
  if (typeof raw !== "string" || raw.length > 2000) return "/dashboard";
  if (!/^\/(?![/\\])/.test(raw) || /[\u0000-\u001f\\]/.test(raw)) return "/dashboard";
  if (raw.startsWith("/login") || raw.startsWith("/logout")) return "/dashboard";
  return raw;
}

const next = accept(safeNext);
// Left out or blank, the sign-in fails with the one message for every failure (passport's "missing credentials").
const loginBody = z.object({
  identifier: optional(fields.text("ABF number or e-mail", { max: 254 })),
  password: optional(fields.password()),
  next,
});
const passwordBody = z.object({
  currentPassword: fields.password("Current password"),
  newPassword: fields.password("New password"),
  confirmPassword: fields.password("Repeated new password"),
});

export function authRoutes(deps: {
  db: Db;
  pool: pg.Pool;
  passport: ReturnType<typeof createPassport>;
  config: Config;
}) {
  const { db, passport, config } = deps;
  const r = inputRouter();

  r.get("/login", { query: z.object({ next }) }, (req, res, { query }) => {
    if (req.user) return res.redirect(query.next);
    res.render("core/login", { next: query.next, identifier: "" });
  });

  const throttles = loginThrottles(
    deps.pool,
    config.LOGIN_MAX_FAILURES,
    config.LOGIN_WINDOW_MINUTES,
    (req, res, message) =>
      res.status(429).render("core/login", { error: message, next: safeNext(req.body?.next), identifier: "" }),
  );

  // Whatever was wrong with the form, a failed sign-in says the same thing.
  const loginRefused = (req: Request, res: Response) =>
    res.status(401).render("core/login", { error: LOGIN_FAILED, next: safeNext(req.body?.next), identifier: "" });

  // passport reads the (now checked) identifier and password from req.body itself.
  r.post("/login", { guard: throttles, body: loginBody, invalid: loginRefused }, (req, res, { body }, next) => {
    const nextUrl = body.next;
    const identifier = body.identifier ?? "";
    passport.authenticate("local", (err: unknown, user: SessionUser | false) => {
      if (err) return next(err);
      if (!user) return res.status(401).render("core/login", { error: LOGIN_FAILED, next: nextUrl, identifier });
      if (user.twoFactorEnabled) {
        // Not signed in yet: the next step asks for the code.
        return startPendingSignIn(req, user.id, nextUrl).then(() => res.redirect("/login/two-factor"), next);
      }
      startSession(req, user, false).then(() => {
        req.log?.info({ userId: user.id }, "signed in");
        // Payments editors must enrol before anything else (their EDIT pages refuse until they have).
        res.redirect(
          holdsAnyEdit(user.permissions) ? `/account/two-factor?next=${encodeURIComponent(nextUrl)}` : nextUrl,
        );
      }, next);
    })(req, res, next);
  });

  r.post("/logout", {}, (req, res, _input, next) => {
    req.logout((err) => {
      if (err) return next(err);
      req.session.destroy(() => {
        res.clearCookie("bc.sid");
        res.redirect("/login");
      });
    });
  });

  r.get("/change-password", { guard: requireLogin }, (_req, res) => res.render("core/change-password"));

  const passwordRefused = (_req: Request, res: Response, message: string) =>
    res.status(400).render("core/change-password", { error: message });

  r.post(
    "/change-password",
    { guard: requireLogin, body: passwordBody, invalid: passwordRefused },
    async (req, res, { body }) => {
      const user = req.user!;
      try {
        await changePassword(db, user.id, body);
      } catch (e) {
        if (e instanceof AppError && e.code === "BAD_INPUT") {
          return res.status(400).render("core/change-password", { error: e.message });
        }
        throw e;
      }
      // Sign out every other session of this user, and give this one a fresh id (keeping its second factor).
      await endSessions(db, user.id, req.sessionID);
      await startSession(req, user, !!req.session.twoFactorVerified);
      flash(req, "success", "Your password has been changed. Other devices have been signed out.");
      res.redirect("/dashboard");
    },
  );

  return r.router;
}
