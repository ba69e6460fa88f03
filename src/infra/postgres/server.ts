// Starts and stops a PostgreSQL server on a data folder: a persistent one for `npm start`, a throwaway one for
// tests. It listens on 127.0.0.1 only, with no Unix socket, because it trusts every local connection.
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { canAccess, findBinaries, freePort, type Identity, serverIdentity, usableBin } from "./binaries";

export interface RunningPostgres {
  url: string;
  port: number;
  dataDir: string;
  proc: ChildProcess;
  stop: () => Promise<void>;
}

export interface StartOptions {
  dataDir: string;
  /** Persistent clusters keep PostgreSQL's durability defaults; throwaway ones trade them for speed. */
  persistent?: boolean;
  /** Also listen on a Unix-domain socket in this folder (it must be reachable by the server's user). */
  socketDir?: string;
  /** Listen on this port (a restart keeps its clients' URL); a free one when unset. */
  port?: number;
  log?: (msg: string) => void;
}

function run(bin: string, cmd: string, args: string[], ids: Identity) {
  const r = spawnSync(path.join(bin, cmd), args, { ...ids, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`${cmd} failed: ${(r.stderr || r.stdout || String(r.error)).trim()}`);
}

/** A previous run killed without stopping its server leaves it running: stop it before reusing the folder. */
function stopStale(bin: string, dataDir: string, ids: Identity) {
  const pidFile = path.join(dataDir, "postmaster.pid");
  if (!fs.existsSync(pidFile)) return;
  const pid = Number(fs.readFileSync(pidFile, "utf8").split("\n")[0]);
  try {
    process.kill(pid, 0);
  } catch {
    return; // not running; PostgreSQL removes the stale pid file itself
  }
  spawnSync(path.join(bin, "pg_ctl"), ["-D", dataDir, "-m", "fast", "-w", "stop"], ids);
}

function waitUntilReady(proc: ChildProcess): Promise<void> {
  let stderr = "";
  return new Promise<void>((resolve, reject) => {
    const done = (err?: Error) => {
      clearTimeout(timer);
      proc.stderr?.removeAllListeners("data");
      proc.stderr?.resume(); // keep draining so the server never blocks on a full pipe
      proc.removeListener("exit", onExit);
      if (err) reject(err);
      else resolve();
    };
    const onExit = (code: number | null) => done(new Error(`PostgreSQL exited (code ${code}):\n${stderr}`));
    const timer = setTimeout(() => done(new Error(`PostgreSQL did not start within 30 s:\n${stderr}`)), 30_000);
    proc.stderr?.on("data", (d) => {
      stderr += d;
      if (stderr.includes("ready to accept connections")) done();
    });
    proc.on("exit", onExit);
  });
}

export async function startPostgres(opts: StartOptions) {
  const { dataDir, persistent = false, socketDir, log = () => {} } = opts;
  const ids = serverIdentity();
  const versionFile = path.join(dataDir, "PG_VERSION");
  const existing = fs.existsSync(versionFile) ? fs.readFileSync(versionFile, "utf8").trim() : null;
  const bin = usableBin(findBinaries(existing), ids);

  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  if (ids.uid !== undefined && ids.gid !== undefined) fs.chownSync(dataDir, ids.uid, ids.gid);
  if (!canAccess(ids, dataDir)) {
    throw new Error(
      `PostgreSQL runs as user nobody here and cannot reach ${dataDir} (a parent folder is private). ` +
        "Set DATA_DIR to a folder it can reach, or DATABASE_URL to use your own server.",
    );
  }
  if (existing) {
    stopStale(bin, dataDir, ids);
  } else {
    log(`initialising a new PostgreSQL data folder in ${dataDir}`);
    const args = ["-D", dataDir, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C", "--no-instructions"];
    if (!persistent) args.push("--no-sync");
    run(bin, "initdb", args, ids);
  }

  const port = opts.port ?? (await freePort());
  const settings = ["listen_addresses=127.0.0.1", `unix_socket_directories=${socketDir ?? ""}`, "max_connections=200"];
  if (!persistent) settings.push("fsync=off", "synchronous_commit=off", "full_page_writes=off");
  const args = ["-D", dataDir, "-p", String(port), ...settings.flatMap((s) => ["-c", s])];
  const proc = spawn(path.join(bin, "postgres"), args, { ...ids, stdio: ["ignore", "ignore", "pipe"] });
  await waitUntilReady(proc);

  let stopping: Promise<void> | null = null;
  const stop = () => {
    stopping ??= new Promise<void>((resolve) => {
      if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
      proc.once("exit", () => resolve());
      proc.kill("SIGINT"); // fast shutdown: roll back open transactions, checkpoint, exit
    });
    return stopping;
  };
  const running: RunningPostgres = {
    url: `postgresql://postgres@127.0.0.1:${port}/postgres`,
    port,
    dataDir,
    proc,
    stop,
  };
  return running;
}

/** A throwaway cluster in a fresh temp folder, deleted when stopped. */
export async function startTempPostgres(): Promise<RunningPostgres> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pgtmp-"));
  fs.chmodSync(dir, 0o755);
  const pg = await startPostgres({ dataDir: path.join(dir, "data") });
  return {
    ...pg,
    stop: async () => {
      await pg.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
