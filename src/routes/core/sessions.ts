// The account's sessions page (where the user is signed in, sign out one or all others), and finance editors
// signing out every session of another user (a stolen laptop, a member who left a club computer signed in).
import { z } from "zod";
import { requireGlobal, requireLogin } from "../../auth/guards";
import type { Db } from "../../db/client";
import { endSessions } from "../../services/users/change-password";
import { endSessionByHandle, listSessions, signOutUserEverywhere } from "../../services/users/sessions";
import { auditActor } from "../../web/audit-actor";
import { flash } from "../../web/flash";
import { accept, fields, inputRouter } from "../../web/input";

const handleParams = z.object({
  session: accept((v, ctx) => {
    if (typeof v === "string" && /^[0-9a-f]{32}$/.test(v)) return v;
    ctx.addIssue({ code: "custom", message: "That is not a session of yours." });
    return z.NEVER;
  }),
});
const plural = (n: number) => `${n} session${n === 1 ? "" : "s"}`;

export function sessionRoutes(deps: { db: Db }) {
  const { db } = deps;
  const r = inputRouter();

  r.get("/account/sessions", { guard: requireLogin }, async (req, res) => {
    res.render("core/sessions", { sessions: await listSessions(db, req.user!.id, req.sessionID) });
  });

  r.post(
    "/account/sessions/:session/sign-out",
    { guard: requireLogin, params: handleParams },
    async (req, res, { params }) => {
      await endSessionByHandle(db, req.user!.id, params.session, req.sessionID);
      flash(req, "success", "That session is signed out.");
      res.redirect("/account/sessions");
    },
  );

  r.post("/account/sessions/sign-out-others", { guard: requireLogin }, async (req, res) => {
    const n = await endSessions(db, req.user!.id, req.sessionID);
    flash(req, "success", `Signed out everywhere else (${plural(n)}).`);
    res.redirect("/account/sessions");
  });

  r.post(
    "/payments/admin-sign-out-member/:memberId",
    { guard: requireGlobal("EDIT"), params: z.object({ memberId: fields.id("Member") }) },
    async (req, res, { params }) => {
      const done = await signOutUserEverywhere(db, params.memberId, auditActor(req));
      req.log?.info({ userId: params.memberId, sessions: done.sessions }, "finance signed out every session of a user");
      flash(req, "success", `${done.name} is signed out everywhere (${plural(done.sessions)}).`);
      res.redirect(`/payments/statement-admin-view/${params.memberId}`);
    },
  );

  return r.router;
}
