// Sign in, sign out and change password. Failed sign-ins all get the same message, whatever went wrong.
import { Router } from "express";
import { requireLogin } from "../../auth/guards";
import type { createPassport } from "../../auth/passport";
import type { SessionUser } from "../../auth/session-user";
import type { Config } from "../../config";
import type { Db } from "../../db/client";
import { AppError } from "../../lib/errors";
import { changePassword, endSessions } from "../../services/users/change-password";
import { flash } from "../../web/flash";
import { loginThrottles } from "../../web/login-throttle";

export const LOGIN_FAILED = "Those sign-in details are not right. Check your ABF number or e-mail and your password.";

/** Only same-site paths may be a post-login destination (no //evil.example or /\evil.example). */
export function safeNext(raw: unknown): string {
  if (typeof raw !== "string" || raw.length > 2000) return "/dashboard";
  if (!/^\/(?![/\\])/.test(raw) || /[\u0000-\u001f\\]/.test(raw)) return "/dashboard";
  if (raw.startsWith("/login") || raw.startsWith("/logout")) return "/dashboard";
  return raw;
}

export function authRoutes(deps: { db: Db; passport: ReturnType<typeof createPassport>; config: Config }) {
  const { db, passport, config } = deps;
  const r = Router();

  r.get("/login", (req, res) => {
    if (req.user) return res.redirect(safeNext(req.query.next));
    res.render("core/login", { next: safeNext(req.query.next), identifier: "" });
  });

  const throttles = loginThrottles(config.LOGIN_MAX_FAILURES, config.LOGIN_WINDOW_MINUTES, (req, res, message) =>
    res.status(429).render("core/login", { error: message, next: safeNext(req.body?.next), identifier: "" }),
  );

  r.post("/login", ...throttles, (req, res, next) => {
    const nextUrl = safeNext(req.body?.next);
    const identifier = typeof req.body?.identifier === "string" ? req.body.identifier.slice(0, 254) : "";
    passport.authenticate("local", (err: unknown, user: SessionUser | false) => {
      if (err) return next(err);
      if (!user) return res.status(401).render("core/login", { error: LOGIN_FAILED, next: nextUrl, identifier });
      // passport regenerates the session here, so a session id planted before sign-in is useless afterwards.
      req.login(user, (loginErr) => {
        if (loginErr) return next(loginErr);
        req.log?.info({ userId: user.id }, "signed in");
        res.redirect(nextUrl);
      });
    })(req, res, next);
  });

  r.post("/logout", (req, res, next) => {
    req.logout((err) => {
      if (err) return next(err);
      req.session.destroy(() => {
        res.clearCookie("bc.sid");
        res.redirect("/login");
      });
    });
  });

  r.get("/change-password", requireLogin, (_req, res) => res.render("core/change-password"));

  r.post("/change-password", requireLogin, async (req, res) => {
    const user = req.user!;
    try {
      await changePassword(db, user.id, {
        currentPassword: req.body?.currentPassword,
        newPassword: req.body?.newPassword,
        confirmPassword: req.body?.confirmPassword,
      });
    } catch (e) {
      if (e instanceof AppError && e.code === "BAD_INPUT") {
        return res.status(400).render("core/change-password", { error: e.message });
      }
      throw e;
    }
    // Sign out every other session of this user, and give this one a fresh id.
    await endSessions(db, user.id, req.sessionID);
    await new Promise<void>((resolve, reject) =>
      req.session.regenerate((err) => (err ? reject(err) : req.login(user, (e) => (e ? reject(e) : resolve())))),
    );
    flash(req, "success", "Your password has been changed. Other devices have been signed out.");
    res.redirect("/dashboard");
  });

  return r;
}
