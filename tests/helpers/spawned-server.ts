// The real `npm start` in a child process, for tests of what only a whole process shows: start-up output,
// signals, exit codes, surviving its database.
import { type ChildProcess, spawn } from "node:child_process";
import { freePort } from "../../src/infra/postgres/binaries";
import { projectRoot } from "../../src/lib/paths";

export interface SpawnedServer {
  proc: ChildProcess;
  /** Everything the process wrote so far (stdout and stderr, in arrival order). */
  output: () => string;
  /** True while the process has not exited. */
  alive: () => boolean;
  /** Sends `signal` and answers the exit code. */
  stop: (signal?: NodeJS.Signals) => Promise<number | null>;
}

/**
 * Starts `src/server.ts` (or `nodeArgs`, e.g. the built `dist/server.js`) with `env` (added to this process's; an
 * undefined value removes a variable) and waits until it says it is serving.
 */
export async function spawnServer(
  env: NodeJS.ProcessEnv,
  timeoutMs = 60_000,
  nodeArgs = ["--import", "tsx", "src/server.ts"],
): Promise<SpawnedServer> {
  const proc = spawn(process.execPath, nodeArgs, {
    cwd: projectRoot,
    env: { ...process.env, ...env },
  });
  let out = "";
  proc.stdout?.on("data", (d) => (out += d));
  proc.stderr?.on("data", (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => proc.once("exit", (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${out}`)), timeoutMs);
    const check = () => {
      if (out.includes("Bridge Credits is serving on")) {
        clearTimeout(timer);
        resolve();
      }
    };
    proc.stdout?.on("data", check);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code}:\n${out}`));
    });
  });
  return {
    proc,
    output: () => out,
    alive: () => proc.exitCode === null && proc.signalCode === null,
    stop: (signal = "SIGTERM") => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      return exited;
    },
  };
}

/** The server on `databaseUrl` in development mode with demo data, on free ports; answers it and its address. */
export async function spawnServerOn(databaseUrl: string, dataDir: string, env: NodeJS.ProcessEnv = {}) {
  const port = await freePort();
  const server = await spawnServer({
    DATABASE_URL: databaseUrl,
    PORT: String(port),
    STRIPE_EMULATOR_PORT: String(await freePort()),
    DATA_DIR: dataDir,
    NODE_ENV: "development",
    DEMO_DATA: "true",
    ...env,
  });
  return { server, base: `http://127.0.0.1:${port}` };
}
