// Reading the outbox: a member's own messages (the app's copy of every e-mail, so nothing is lost without SMTP)
// and finance staff's mail log.
import type pg from "pg";
import type { Db } from "../../db/client";
import { namedQuery } from "../../db/named-query";
import { notFound } from "../../lib/errors";

export interface MemberMessage {
  id: number;
  kind: string;
  subject: string;
  body: string;
  linkUrl: string | null;
  linkText: string | null;
  createdAt: Date;
  readAt: Date | null;
  /** The facts the message's template shows (render-email.ts). */
  data: unknown;
}

/**
 * The Messages page in one query (it runs on every visit; this was two Prisma queries): the member's newest
 * messages and whether they receive low-balance warnings.
 */
export async function memberMessagesPage(pool: Pick<pg.Pool, "query">, userId: number, limit = 100) {
  if (!Number.isSafeInteger(limit) || limit < 1) throw new Error(`bad messages limit ${limit}`);
  // A named statement with its limit in the text: planned once per connection (src/db/named-query.ts).
  const { rows } = await namedQuery<{ low_balance: boolean } & { [K in keyof MemberMessage]: MemberMessage[K] | null }>(
    pool,
    `SELECT u.receive_low_balance_emails AS low_balance, n.*
       FROM users u
       LEFT JOIN LATERAL (SELECT id, kind, subject, body, link_url AS "linkUrl", link_text AS "linkText",
                                 created_at AS "createdAt", read_at AS "readAt", data
                            FROM notifications WHERE user_id = u.id ORDER BY id DESC LIMIT ${limit}) n ON true
      WHERE u.id = $1
      ORDER BY n.id DESC`,
    [userId],
  );
  if (!rows[0]) throw notFound("That member does not exist.");
  return {
    prefs: { receiveLowBalanceEmails: rows[0].low_balance },
    messages: rows.filter((r) => r.id !== null).map(({ low_balance: _, ...m }) => m as MemberMessage),
  };
}

export async function markMessagesRead(db: Db, userId: number) {
  await db.notification.updateMany({ where: { userId, readAt: null }, data: { readAt: new Date() } });
}

export function unreadCount(db: Db, userId: number) {
  return db.notification.count({ where: { userId, readAt: null } });
}

export async function mailLog(db: Db, opts: { limit?: number; beforeId?: number } = {}) {
  const rows = await db.notification.findMany({
    where: opts.beforeId ? { id: { lt: opts.beforeId } } : {},
    orderBy: { id: "desc" },
    take: opts.limit ?? 100,
  });
  const users = await db.user.findMany({
    where: { id: { in: [...new Set(rows.map((r) => r.userId).filter((u): u is number => u !== null))] } },
    select: { id: true, firstName: true, lastName: true, email: true },
  });
  const byId = new Map(users.map((u) => [u.id, u]));
  return rows.map((r) => {
    const u = r.userId ? byId.get(r.userId) : undefined;
    return { ...r, recipient: u ? `${u.firstName} ${u.lastName} <${u.email}>` : (r.email ?? "") };
  });
}
