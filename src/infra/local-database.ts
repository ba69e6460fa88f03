// The database `npm start` uses when DATABASE_URL is unset: a PostgreSQL cluster kept in the checkout's data
// folder, so balances survive restarts. If the cluster is already running (another `npm start`, or the operators'
// CLI while the app runs) we connect to it rather than start a second server on the same folder.
import { createHash, randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { canAccess, serverIdentity } from "./postgres/binaries";
import { startPostgres } from "./postgres/server";

export interface LocalDatabase {
  url: string;
  /** Stops the server if this process started it; a no-op when we joined one already running. */
  stop: () => Promise<void>;
}

function isAlive(pid: number) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM"; // alive, but owned by another user (nobody)
  }
}

/** postmaster.pid: line 1 is the pid, line 4 the port. */
function runningPort(pgDir: string): number | null {
  const file = path.join(pgDir, "postmaster.pid");
  if (!fs.existsSync(file)) return null;
  const lines = fs.readFileSync(file, "utf8").split("\n");
  const pid = Number(lines[0]);
  const port = Number(lines[3]);
  return pid > 0 && port > 0 && isAlive(pid) ? port : null;
}

/**
 * Where the cluster lives: `<data folder>/pg`, unless we run as root in a folder that the unprivileged database
 * user cannot reach (a checkout under /root, say). Then it lives under /var/lib/bridge-credits instead, in a folder
 * named after the checkout's data folder, so each checkout keeps its own data across restarts.
 */
function clusterDir(dataDir: string, log: (msg: string) => void): string {
  const wanted = path.resolve(dataDir, "pg");
  fs.mkdirSync(path.dirname(wanted), { recursive: true });
  if (canAccess(serverIdentity(), path.dirname(wanted))) return wanted;
  const id = createHash("sha256").update(wanted).digest("hex").slice(0, 12);
  const fallback = path.join("/var/lib/bridge-credits", id, "pg");
  fs.mkdirSync(path.dirname(fallback), { recursive: true, mode: 0o755 });
  fs.chmodSync(path.dirname(fallback), 0o755);
  fs.chmodSync(path.dirname(path.dirname(fallback)), 0o755);
  log(`${wanted} is not reachable by the database user (nobody); keeping the database in ${fallback} instead`);
  return fallback;
}

export async function openLocalDatabase(dataDir: string, log: (msg: string) => void): Promise<LocalDatabase> {
  const pgDir = clusterDir(dataDir, log);
  const port = runningPort(pgDir);
  if (port) {
    log(`using the PostgreSQL already running on ${pgDir} (port ${port})`);
    return { url: `postgresql://postgres@127.0.0.1:${port}/postgres`, stop: async () => {} };
  }
  const pg = await startPostgres({ dataDir: pgDir, persistent: true, log });
  log(`embedded PostgreSQL started on 127.0.0.1:${pg.port} (data in ${pgDir})`);
  return { url: pg.url, stop: pg.stop };
}

/**
 * A development secret (`session-secret`, `encryption-key`), generated once and kept in the data folder so
 * sign-ins and enrolled authenticators survive restarts.
 */
export function localSecret(dataDir: string, name: "session-secret" | "encryption-key"): string {
  const file = path.resolve(dataDir, name);
  if (fs.existsSync(file)) return fs.readFileSync(file, "utf8").trim();
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const secret = randomBytes(32).toString("base64url");
  fs.writeFileSync(file, `${secret}\n`, { mode: 0o600 });
  return secret;
}
