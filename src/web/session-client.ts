// Notes on each signed-in session where and with what it is used, for the sessions page. Written at most once a
// minute (or when the address or browser changes), so it does not save the session on every request.
import type { NextFunction, Request, Response } from "express";

const REFRESH_MS = 60_000;

export function recordClient(req: Request, signingIn = false) {
  const now = Date.now();
  const ip = req.ip ?? "";
  const userAgent = (req.get("user-agent") ?? "").slice(0, 300);
  const seen = signingIn ? undefined : req.session.client;
  if (seen && seen.ip === ip && seen.userAgent === userAgent && now - seen.seenAt < REFRESH_MS) return;
  req.session.client = { ip, userAgent, seenAt: now, signedInAt: seen?.signedInAt ?? now };
}

export function sessionClient(req: Request, _res: Response, next: NextFunction) {
  if (req.user) recordClient(req);
  next();
}
