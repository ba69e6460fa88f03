// The approvals page's lists: requests still waiting (expired ones shown as such), and the latest decided.
import type { Db } from "../../db/client";

const people = async (db: Db, ids: (number | null)[]) => {
  const users = await db.user.findMany({
    where: { id: { in: ids.filter((x): x is number => x !== null) } },
    select: { id: true, firstName: true, lastName: true },
  });
  return new Map(users.map((u) => [u.id, `${u.firstName} ${u.lastName}`]));
};

export async function listApprovals(db: Db, now = new Date()) {
  const [waiting, decided] = await Promise.all([
    db.approvalRequest.findMany({ where: { status: { in: ["pending", "approving"] } }, orderBy: { id: "desc" } }),
    db.approvalRequest.findMany({
      where: { status: { in: ["approved", "rejected", "failed"] } },
      orderBy: { decidedAt: "desc" },
      take: 50,
    }),
  ]);
  const all = [...waiting, ...decided];
  const names = await people(db, [...all.map((r) => r.requestedByUserId), ...all.map((r) => r.decidedByUserId)]);
  const shown = (r: (typeof all)[number]) => ({
    ...r,
    state: r.status === "pending" && r.expiresAt <= now ? "expired" : r.status,
    requestedBy: names.get(r.requestedByUserId) ?? "",
    decidedBy: r.decidedByUserId ? (names.get(r.decidedByUserId) ?? "") : "",
  });
  return { waiting: waiting.map(shown), decided: decided.map(shown) };
}
