// The start-up steps shared by a single process and a cluster's primary, and what a worker learns from its primary.
import type { Config } from "../config";
import { prepareSchema } from "../db/migrate";
import { type LocalDatabase, openLocalDatabase } from "../infra/local-database";
import { DEMO_LOGINS, DEMO_PASSWORD } from "../services/demo/seed-demo";
import type { EmulatorAttachment } from "../services/stripe/card-processor";

/** The embedded database unless DATABASE_URL is set, brought up to date (or checked) once for this start. */
export async function openDatabase(
  config: Config,
  say: (msg: string) => void,
): Promise<{ url: string; local: LocalDatabase | null }> {
  const local = config.DATABASE_URL ? null : await openLocalDatabase(config.DATA_DIR, say);
  const url = config.DATABASE_URL ?? local!.url;
  await prepareSchema(url, config.MIGRATE_ON_START);
  return { url, local };
}

/** The last lines of start-up: the demo logins (when there are any) and where the app is serving. */
export function announce(config: Config, showLogins: boolean, say: (msg: string) => void) {
  if (showLogins) {
    const lines = DEMO_LOGINS.map((l) => `  ${l.role.padEnd(28)} ${l.email.padEnd(36)} ABF ${l.systemNumber}`);
    console.log(
      `\nDemo logins. Every demo login uses the password "${DEMO_PASSWORD}" (unless changed since).\n` +
        "Staff then give a two-factor code: `npm run admin -- demo-code --user <e-mail>` prints the current one.\n" +
        `${lines.join("\n")}\n`,
    );
  }
  say(`Bridge Credits is serving on http://${config.HOST === "0.0.0.0" ? "localhost" : config.HOST}:${config.PORT}`);
}

/** What the primary tells each worker (in WORKER_ENV): its number, and what it already runs for everyone. */
export interface WorkerRole {
  /** 1…N; a restarted worker keeps the number of the one it replaces. */
  index: number;
  /** Runs the background senders (e-mail, outbound webhooks): worker 1 only. */
  background: boolean;
  /** The primary's Stripe emulator, when there are no Stripe keys. */
  emulator?: EmulatorAttachment;
}

export const WORKER_ENV = "BRIDGE_CLUSTER_WORKER";

export function workerRole(): WorkerRole {
  const raw = process.env[WORKER_ENV];
  if (!raw) throw new Error(`${WORKER_ENV} is missing: a cluster worker is started by its primary`);
  return JSON.parse(raw) as WorkerRole;
}
