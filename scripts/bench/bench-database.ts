// The database a benchmark runs on: DATABASE_URL when set, otherwise a fresh PostgreSQL with durable settings
// (fsync on) in a temp folder, removed afterwards. With `socket`, clients connect over a Unix-domain socket.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { type RunningPostgres, startPostgres } from "../../src/infra/postgres/server";

export interface BenchDatabase {
  url: string;
  stop(): Promise<void>;
}

export async function benchDatabase(opts: { socket?: boolean } = {}): Promise<BenchDatabase> {
  if (process.env.DATABASE_URL) return { url: process.env.DATABASE_URL, stop: async () => {} };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bc-bench-"));
  fs.chmodSync(dir, 0o755);
  const socketDir = opts.socket ? path.join(dir, "sock") : undefined;
  if (socketDir) {
    fs.mkdirSync(socketDir, { mode: 0o777 });
    fs.chmodSync(socketDir, 0o777); // the server may run as another user (nobody, when we are root)
  }
  let server: RunningPostgres | null = null;
  try {
    server = await startPostgres({ dataDir: path.join(dir, "data"), persistent: true, socketDir });
  } catch (e) {
    fs.rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  const url = socketDir
    ? `postgresql://postgres@localhost:${server.port}/postgres?host=${encodeURIComponent(socketDir)}`
    : server.url;
  return {
    url,
    stop: async () => {
      await server?.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
