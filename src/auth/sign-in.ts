// Starting a signed-in session. passport's login gives the session a fresh id (a session id planted before
// sign-in is useless afterwards); `secondFactor` marks that this session gave a two-factor code.
import type { Request } from "express";
import { recordClient } from "../web/session-client";
import type { SessionUser } from "./session-user";

export function startSession(req: Request, user: SessionUser, secondFactor: boolean): Promise<void> {
  return new Promise((resolve, reject) =>
    req.login(user, (err) => {
      if (err) return reject(err);
      if (secondFactor) req.session.twoFactorVerified = true;
      recordClient(req, true);
      resolve();
    }),
  );
}
