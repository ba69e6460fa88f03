// A user's signed-in sessions, as connect-pg-simple stores them (table "session", passport's user id inside the
// JSON, indexed). Pages name a session by a hash of its id, never the id itself (the id is the cookie's value).
import { createHash } from "node:crypto";
import type { SessionData } from "express-session";
import type { Db } from "../../db/client";
import { badInput, notFound } from "../../lib/errors";
import { type AuditActor, recordAudit } from "../audit/record";
import { endSessions } from "./change-password";
import { deviceName } from "./device-name";

export const sessionHandle = (sid: string) => createHash("sha256").update(sid).digest("hex").slice(0, 32);

type Stored = Partial<SessionData> & { passport?: { user?: string } };

export interface ActiveSession {
  handle: string;
  device: string;
  ip: string | null;
  lastSeen: Date | null;
  signedInAt: Date | null;
  current: boolean;
}

async function rows(db: Db, userId: number) {
  return db.$queryRaw<{ sid: string; sess: Stored }[]>`
    SELECT sid, sess FROM "session"
     WHERE (sess::jsonb -> 'passport' ->> 'user') = ${String(userId)} AND expire > now()`;
}

/** The user's unexpired sessions, most recently used first; `currentSid` marks the one asking. */
export async function listSessions(db: Db, userId: number, currentSid: string): Promise<ActiveSession[]> {
  const list = (await rows(db, userId)).map(({ sid, sess }) => ({
    handle: sessionHandle(sid),
    device: deviceName(sess.client?.userAgent),
    ip: sess.client?.ip ?? null,
    lastSeen: sess.client?.seenAt ? new Date(sess.client.seenAt) : null,
    signedInAt: sess.client?.signedInAt ? new Date(sess.client.signedInAt) : null,
    current: sid === currentSid,
  }));
  return list.sort(
    (a, b) => Number(b.current) - Number(a.current) || (b.lastSeen?.getTime() ?? 0) - (a.lastSeen?.getTime() ?? 0),
  );
}

/** Signs out one of the user's other sessions, named by its handle (this one signs out with "Sign out"). */
export async function endSessionByHandle(db: Db, userId: number, handle: string, currentSid: string) {
  const match = (await rows(db, userId)).find((r) => sessionHandle(r.sid) === handle);
  if (!match) throw notFound("That session has ended already.");
  if (match.sid === currentSid) throw badInput("To sign out here, use Sign out in the menu.");
  await db.$executeRaw`DELETE FROM "session" WHERE sid = ${match.sid}`;
}

/**
 * A finance editor signs out every session of another user; answers the user's name and how many sessions ended.
 * The sessions end and the audit row is written in one transaction; the user must exist.
 */
export async function signOutUserEverywhere(db: Db, userId: number, audit: AuditActor & { actorId: number }) {
  if (userId === audit.actorId) {
    throw badInput("To sign yourself out elsewhere, use your own sessions page (/account/sessions).");
  }
  return db.$transaction(async (tx) => {
    const user = await tx.user.findUnique({ where: { id: userId }, select: { firstName: true, lastName: true } });
    if (!user) throw notFound("That member does not exist.");
    const sessions = await endSessions(tx, userId);
    await recordAudit(tx, {
      ...audit,
      action: "session.sign_out_all",
      targetType: "user",
      targetId: userId,
      after: { sessions },
    });
    return { name: `${user.firstName} ${user.lastName}`, sessions };
  });
}
