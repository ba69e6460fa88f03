import type { Db } from "../../db/client";

/** The payment settings in force: the newest saved version (the migration saves the first). */
export function activePaymentSettings(db: Db) {
  return db.paymentSettings.findFirstOrThrow({ orderBy: { id: "desc" } });
}
