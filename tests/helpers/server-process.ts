// The real server (`npm start`'s entry point) as a child process, for tests of starting, stopping and crashing.
import { type ChildProcess, spawn } from "node:child_process";
import { projectRoot } from "../../src/lib/paths";

/** Starts `src/server.ts` with `env` and waits until it says it is serving. */
export async function startServer(env: NodeJS.ProcessEnv): Promise<{ proc: ChildProcess; output: () => string }> {
  const proc = spawn(process.execPath, ["--import", "tsx", "src/server.ts"], { cwd: projectRoot, env });
  let out = "";
  proc.stdout?.on("data", (d) => (out += d));
  proc.stderr?.on("data", (d) => (out += d));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${out}`)), 90_000);
    const check = () => {
      if (out.includes("Bridge Credits is serving on")) {
        clearTimeout(timer);
        resolve();
      }
    };
    proc.stdout?.on("data", check);
    proc.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code}:\n${out}`));
    });
  });
  proc.removeAllListeners("exit");
  return { proc, output: () => out };
}
