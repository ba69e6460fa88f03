// Activating or deactivating a user (the operators' CLI), with its audit row in the same transaction.
import type { Db } from "../../db/client";
import { type AuditActor, recordAudit } from "../audit/record";

export async function setUserActive(db: Db, userId: number, active: boolean, audit: AuditActor) {
  await db.$transaction(async (tx) => {
    const before = await tx.user.findUniqueOrThrow({ where: { id: userId }, select: { isActive: true } });
    if (before.isActive === active) return;
    await tx.user.update({ where: { id: userId }, data: { isActive: active } });
    await recordAudit(tx, {
      ...audit,
      action: active ? "user.activate" : "user.deactivate",
      targetType: "user",
      targetId: userId,
      before: { isActive: before.isActive },
      after: { isActive: active },
    });
  });
}
