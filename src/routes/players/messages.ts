// The member's messages (every notification the payments module sent them) and finance staff's mail log.
import type pg from "pg";
import { z } from "zod";
import { requireGlobal, requireLogin } from "../../auth/guards";
import type { Db } from "../../db/client";
import { mailLog, markMessagesRead, memberMessagesPage } from "../../services/notifications/read-notifications";
import type { EmailRenderer } from "../../services/notifications/render-email";
import { flash } from "../../web/flash";
import { fields, inputRouter, optional } from "../../web/input";

export function messageRoutes(deps: {
  db: Db;
  pool: Pick<pg.Pool, "query">;
  mailConfigured: boolean;
  emails: EmailRenderer;
}) {
  const r = inputRouter();
  r.get("/payments/messages", { guard: requireLogin }, async (req, res) => {
    const { messages: rows, prefs } = await memberMessagesPage(deps.pool, req.user!.id);
    // Each message shows what its e-mail says: the same template (autoescaped), with the page's classes.
    const messages = rows.map((m) => ({ ...m, content: deps.emails.renderPage(m) }));
    res.render("players/messages", { messages, prefs });
  });
  // The low-balance warning's opt-out (§3.12.1): the only message a member can switch off.
  r.post(
    "/payments/messages/settings",
    { guard: requireLogin, body: z.object({ low_balance: fields.checkbox("Low balance warnings") }) },
    async (req, res, { body }) => {
      const on = body.low_balance;
      await deps.db.user.update({ where: { id: req.user!.id }, data: { receiveLowBalanceEmails: on } });
      flash(req, "success", on ? "Low balance warnings are on." : "Low balance warnings are off.");
      res.redirect("/payments/messages");
    },
  );
  r.post("/payments/messages/read", { guard: requireLogin }, async (req, res) => {
    await markMessagesRead(deps.db, req.user!.id);
    res.redirect("/payments/messages");
  });
  r.get(
    "/payments/mail-log",
    { guard: requireGlobal("VIEW"), query: z.object({ before: optional(fields.id("Page")) }) },
    async (_req, res, { query }) => {
      const rows = await mailLog(deps.db, { beforeId: query.before });
      res.render("admin/mail-log", { rows, mailConfigured: deps.mailConfigured, next: rows.at(-1)?.id });
    },
  );
  return r.router;
}
