// Reading the outbox: a member's own messages (the app's copy of every e-mail, so nothing is lost without SMTP)
// and finance staff's mail log.
import type { Db } from "../../db/client";

export function memberMessages(db: Db, userId: number, limit = 100) {
  return db.notification.findMany({ where: { userId }, orderBy: { id: "desc" }, take: limit });
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
