// A club's settlement fee: its own override if finance set one (§1.9), otherwise the default of the settings
// in force. Parts per million, so 2.5 % is exactly 25,000.
import type { Db } from "../../db/client";
import { activePaymentSettings } from "../payments/settings";

export async function orgFeePpm(db: Db, organisationId: number): Promise<number> {
  const [override, settings] = await Promise.all([
    db.organisationFeeOverride.findUnique({ where: { organisationId }, select: { feePpm: true } }),
    activePaymentSettings(db),
  ]);
  return override?.feePpm ?? settings.defaultOrgFeePpm;
}
