// Starting a signed-in session. The session gets a fresh id (a session id planted before sign-in is useless
// afterwards), and everything it holds is in place before it is stored: express-session sends a redirect's
// headers before its own save finishes, so a browser following the redirect at once would otherwise read the
// session without what was set after passport stored it.
import type { Request } from "express";
import { recordClient } from "../web/session-client";
import type { SessionUser } from "./session-user";

const regenerate = (req: Request) =>
  new Promise<void>((resolve, reject) => req.session.regenerate((err) => (err ? reject(err) : resolve())));

/** Stores the session now (before a redirect whose next request must see it). */
export const saveSession = (req: Request) =>
  new Promise<void>((resolve, reject) => req.session.save((err) => (err ? reject(err) : resolve())));

/** Signs `user` in on a fresh session; `secondFactor`: this session gave a two-factor code. */
export async function startSession(req: Request, user: SessionUser, secondFactor: boolean): Promise<void> {
  await regenerate(req);
  if (secondFactor) req.session.twoFactorVerified = true;
  recordClient(req, true);
  // passport regenerates once more and copies these fields over, then stores the session before answering.
  await new Promise<void>((resolve, reject) =>
    req.login(user, { session: true, keepSessionInfo: true }, (err) => (err ? reject(err) : resolve())),
  );
}

/** Password accepted, code still to come: a fresh session that only knows whose code it waits for. */
export async function startPendingSignIn(req: Request, userId: number, next: string): Promise<void> {
  await regenerate(req);
  req.session.pendingSignIn = { userId, next, at: Date.now() };
  await saveSession(req);
}
