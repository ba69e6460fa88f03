// The approvals page's lists: requests still waiting (expired ones shown as such), and the latest decided.
import type { Db } from "../../db/client";
import type { ApprovalRequest } from "../../generated/prisma/client";

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
  const [names, balances] = await Promise.all([
    people(db, [...all.map((r) => r.requestedByUserId), ...all.map((r) => r.decidedByUserId)]),
    adjustedBalances(db, waiting),
  ]);
  const shown = (r: (typeof all)[number]) => ({
    ...r,
    state: r.status === "pending" && r.expiresAt <= now ? "expired" : r.status,
    requestedBy: names.get(r.requestedByUserId) ?? "",
    decidedBy: r.decidedByUserId ? (names.get(r.decidedByUserId) ?? "") : "",
    balance: balances.get(r.id) ?? null,
  });
  return { waiting: waiting.map(shown), decided: decided.map(shown) };
}

/**
 * For adjustments still waiting: the balance now and after the adjustment, as the requester's review page showed
 * it, so the approver sees, say, that it takes a member below zero (read now: it may have moved since the request).
 */
async function adjustedBalances(db: Db, waiting: ApprovalRequest[]) {
  const out = new Map<number, { nowCents: bigint; afterCents: bigint }>();
  const adjustments = waiting.filter((r) => r.kind === "member_adjustment" || r.kind === "org_adjustment");
  if (adjustments.length === 0) return out;
  const accounts = await db.account.findMany({
    where: {
      OR: [
        {
          userId: {
            in: adjustments.flatMap((r) => (r.kind === "member_adjustment" && r.targetUserId ? [r.targetUserId] : [])),
          },
        },
        {
          organisationId: {
            in: adjustments.flatMap((r) => (r.kind === "org_adjustment" && r.organisationId ? [r.organisationId] : [])),
          },
        },
      ],
    },
    select: { userId: true, organisationId: true, balanceCents: true },
  });
  for (const r of adjustments) {
    const a = accounts.find((x) =>
      r.kind === "member_adjustment" ? x.userId === r.targetUserId : x.organisationId === r.organisationId,
    );
    const signed = (r.payload as { amountCents?: unknown }).amountCents;
    if (!a || typeof signed !== "string" || !/^-?\d+$/.test(signed)) continue;
    out.set(r.id, { nowCents: a.balanceCents, afterCents: a.balanceCents + BigInt(signed) });
  }
  return out;
}
