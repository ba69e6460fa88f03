// The member's messages (every notification the payments module sent them) and finance staff's mail log.
import { Router } from "express";
import { requireGlobal, requireLogin } from "../../auth/guards";
import type { Db } from "../../db/client";
import { mailLog, markMessagesRead, memberMessages } from "../../services/notifications/read-notifications";

export function messageRoutes(deps: { db: Db; mailConfigured: boolean }) {
  const r = Router();
  r.get("/payments/messages", requireLogin, async (req, res) => {
    res.render("players/messages", { messages: await memberMessages(deps.db, req.user!.id) });
  });
  r.post("/payments/messages/read", requireLogin, async (req, res) => {
    await markMessagesRead(deps.db, req.user!.id);
    res.redirect("/payments/messages");
  });
  r.get("/payments/mail-log", ...requireGlobal("VIEW"), async (req, res) => {
    const before = /^\d{1,9}$/.test(String(req.query.before ?? "")) ? Number(req.query.before) : undefined;
    const rows = await mailLog(deps.db, { beforeId: before });
    res.render("admin/mail-log", { rows, mailConfigured: deps.mailConfigured, next: rows.at(-1)?.id });
  });
  return r;
}
