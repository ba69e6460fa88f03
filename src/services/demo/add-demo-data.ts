// Start-up's demo step, run once per start (by the single process, or by a cluster's primary): add the demo data
// to an empty database (seedDemoData locks the users table, so two containers starting at once seed once).
import type { Config } from "../../config";
import type { Payments } from "../payments/context";
import type { SecretBox } from "../two-factor/secret-box";
import { seedDemoActivity } from "./seed-activity";
import { hasDemoLogins, seedDemoData } from "./seed-demo";

/** Seeds when DEMO_DATA is on and the database has no users; answers whether the demo logins should be shown. */
export async function addDemoData(
  config: Config,
  payments: Payments,
  say: (msg: string) => void,
  box: SecretBox,
): Promise<boolean> {
  if (!config.DEMO_DATA) return false;
  // The demo staff come enrolled in two-factor sign-in: their secret is encrypted with the app's key.
  if (await seedDemoData(payments.db, box)) {
    await seedDemoActivity(payments);
    say("Demo data added");
  }
  return hasDemoLogins(payments.db);
}
