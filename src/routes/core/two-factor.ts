// Two-factor sign-in: the second step of signing in (/login/two-factor) and the account page that enrols an
// authenticator (/account/two-factor). Wrong codes are throttled like wrong passwords, per user and per address.
import type { Request, Response } from "express";
import type pg from "pg";
import QRCode from "qrcode";
import { z } from "zod";
import { requireLogin } from "../../auth/guards";
import { loadSessionUser } from "../../auth/passport";
import { saveSession, startSession } from "../../auth/sign-in";
import type { Config } from "../../config";
import type { Db } from "../../db/client";
import { AppError } from "../../lib/errors";
import { recordAudit } from "../../services/audit/record";
import { holdsAnyEdit } from "../../services/roles/permissions";
import {
  CODE_REFUSED,
  confirmEnrolment,
  disableTwoFactor,
  startEnrolment,
  twoFactorStatus,
} from "../../services/two-factor/enrolment";
import type { SecretBox } from "../../services/two-factor/secret-box";
import { verifySecondFactor } from "../../services/two-factor/verify";
import { endSessions } from "../../services/users/change-password";
import { auditActor } from "../../web/audit-actor";
import { flash } from "../../web/flash";
import { accept, fields, inputRouter, optional } from "../../web/input";
import { codeThrottles } from "../../web/login-throttle";
import { safeNext } from "./auth";

/** A password accepted this long ago still waits for its code; after that, sign in again. */
const PENDING_MS = 10 * 60_000;

const next = accept(safeNext);
const codeBody = z.object({ code: optional(fields.text("Code", { max: 64 })), next });

export function twoFactorRoutes(deps: { db: Db; pool: pg.Pool; box: SecretBox; config: Config }) {
  const { db, box, config } = deps;
  const r = inputRouter();

  const pending = (req: Request) => {
    const p = req.session.pendingSignIn;
    return p && Date.now() - p.at < PENDING_MS ? p : undefined;
  };
  const signInStep = (res: Response, status: number, error?: string) =>
    res.status(status).render("core/two-factor-sign-in", { error });
  const throttles = codeThrottles(
    deps.pool,
    config.LOGIN_MAX_FAILURES,
    config.LOGIN_WINDOW_MINUTES,
    (req) => req.user?.id ?? pending(req)?.userId,
    (req, res, message) => {
      if (req.path === "/login/two-factor") return signInStep(res, 429, message);
      res.status(429).render("errors/error", { status: 429, message });
    },
  );

  // --- the second step of signing in ---------------------------------------------------------------------
  r.get("/login/two-factor", {}, (req, res) => {
    if (!pending(req)) return res.redirect("/login");
    signInStep(res, 200);
  });

  r.post(
    "/login/two-factor",
    { guard: throttles, body: codeBody, invalid: (_req, res) => signInStep(res, 401, CODE_REFUSED) },
    async (req, res, { body }) => {
      const p = pending(req);
      if (!p) return res.redirect("/login");
      const result = await verifySecondFactor(db, box, p.userId, body.code ?? "");
      if (!result.ok) return signInStep(res, 401, CODE_REFUSED);
      const user = await loadSessionUser(deps.pool, p.userId);
      if (!user) return res.redirect("/login"); // deactivated meanwhile
      await startSession(req, user, true);
      req.log?.info({ userId: user.id, via: result.via }, "signed in with a second factor");
      if (result.via === "recovery") {
        flash(
          req,
          "warning",
          `You signed in with a recovery code; ${result.recoveryLeft} left. Each works once: set up your authenticator again if your phone is lost (Account → Two-factor sign-in).`,
        );
        await saveSession(req);
      }
      res.redirect(p.next);
    },
  );

  // --- enrolment ---------------------------------------------------------------------------------------------
  const enrolPage = async (req: Request, res: Response, nextUrl: string, status = 200, error?: string) => {
    const user = req.user!;
    const state = await twoFactorStatus(db, user.id);
    const mustEnrol = holdsAnyEdit(user.permissions);
    if (state.enabledAt) {
      return res.status(status).render("core/two-factor", { state, mustEnrol, next: nextUrl, error });
    }
    const { secret, uri } = await startEnrolment(db, box, user);
    const qr = await QRCode.toDataURL(uri, { errorCorrectionLevel: "M", margin: 1, width: 240 });
    res.set("Cache-Control", "no-store");
    res.status(status).render("core/two-factor-enrol", {
      qr,
      secret,
      secretGroups: secret.match(/.{1,4}/g)!.join(" "),
      mustEnrol,
      next: nextUrl,
      error,
    });
  };

  r.get("/account/two-factor", { guard: requireLogin, query: z.object({ next }) }, (req, res, { query }) =>
    enrolPage(req, res, query.next),
  );

  const refused = (req: Request, res: Response, message: string) =>
    enrolPage(req, res, safeNext(req.body?.next), 400, message);

  r.post(
    "/account/two-factor",
    { guard: [requireLogin, ...throttles], body: codeBody, invalid: refused },
    async (req, res, { body }) => {
      const user = req.user!;
      let codes: string[];
      try {
        codes = await confirmEnrolment(db, box, user.id, body.code ?? "", (tx) =>
          recordAudit(tx, { ...auditActor(req), action: "two_factor.enrol", targetType: "user", targetId: user.id }),
        );
      } catch (e) {
        if (e instanceof AppError && (e.code === "BAD_INPUT" || e.code === "CONFLICT")) {
          return refused(req, res, e.message);
        }
        throw e;
      }
      // Other sessions signed in with the password alone: they sign in again, with a code.
      await endSessions(db, user.id, req.sessionID);
      req.session.twoFactorVerified = true;
      await saveSession(req);
      req.log?.info({ userId: user.id }, "two-factor sign-in enrolled");
      res.set("Cache-Control", "no-store");
      res.render("core/two-factor-recovery-codes", { codes, next: body.next });
    },
  );

  r.post(
    "/account/two-factor/disable",
    { guard: [requireLogin, ...throttles], body: codeBody, invalid: refused },
    async (req, res, { body }) => {
      try {
        await disableTwoFactor(db, box, req.user!, body.code ?? "", auditActor(req));
      } catch (e) {
        if (e instanceof AppError && e.code === "BAD_INPUT") return refused(req, res, e.message);
        throw e;
      }
      req.session.twoFactorVerified = false;
      flash(req, "success", "Two-factor sign-in is off. You sign in with your password alone.");
      await saveSession(req);
      res.redirect("/account/two-factor");
    },
  );

  return r.router;
}
