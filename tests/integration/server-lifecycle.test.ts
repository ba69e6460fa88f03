// `npm start` as a user runs it: embedded PostgreSQL in the data folder, demo data on first run, data kept
// across a restart, and nothing left running after SIGTERM.
import { type ChildProcess, spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import request from "supertest";
import { freePort } from "../../src/infra/postgres/binaries";
import { projectRoot } from "../../src/lib/paths";
import { DEMO_PASSWORD } from "../../src/services/demo/seed-demo";
import { csrfFrom } from "../helpers/app";

let dataDir: string;
beforeAll(() => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "bc-start-"));
  fs.chmodSync(dataDir, 0o755);
});
afterAll(() => fs.rmSync(dataDir, { recursive: true, force: true }));

async function start(port: number): Promise<{ proc: ChildProcess; output: () => string }> {
  const env: NodeJS.ProcessEnv = { ...process.env, PORT: String(port), DATA_DIR: dataDir, NODE_ENV: "development" };
  delete env.DATABASE_URL;
  delete env.SESSION_SECRET;
  const proc = spawn(process.execPath, ["--import", "tsx", "src/server.ts"], { cwd: projectRoot, env });
  let out = "";
  proc.stdout?.on("data", (d) => (out += d));
  proc.stderr?.on("data", (d) => (out += d));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${out}`)), 45_000);
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

function stop(proc: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    proc.once("exit", (code) => resolve(code));
    proc.kill("SIGTERM");
  });
}

function postgresPid(): number {
  return Number(fs.readFileSync(path.join(dataDir, "pg", "postmaster.pid"), "utf8").split("\n")[0]);
}

function alive(pid: number) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

async function signIn(base: string, identifier: string, password: string) {
  const agent = request.agent(base);
  const page = await agent.get("/login");
  const res = await agent
    .post("/login")
    .type("form")
    .send({ _csrf: csrfFrom(page.text), identifier, password });
  return { agent, res };
}

test("npm start: first run seeds demo data; a restart keeps it; SIGTERM leaves no process behind", async () => {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;

  const first = await start(port);
  expect(first.output()).toContain('Every demo login uses the password "bridge-demo-2026"');
  const pgPid = postgresPid();
  expect(alive(pgPid)).toBe(true);
  const { agent, res } = await signIn(base, "margaret@demo.bridgecredits.test", DEMO_PASSWORD);
  expect(res.status).toBe(302);
  const form = await agent.get("/change-password");
  const changed = await agent
    .post("/change-password")
    .type("form")
    .send({
      _csrf: csrfFrom(form.text),
      currentPassword: DEMO_PASSWORD,
      newPassword: "kept-across-restarts",
      confirmPassword: "kept-across-restarts",
    });
  expect(changed.status).toBe(302);
  expect(await stop(first.proc)).toBe(0);
  expect(alive(pgPid)).toBe(false);

  const second = await start(port);
  expect(second.output()).not.toContain("Demo data added");
  expect((await signIn(base, "margaret@demo.bridgecredits.test", "kept-across-restarts")).res.status).toBe(302);
  expect((await signIn(base, "620002", DEMO_PASSWORD)).res.status).toBe(302);
  const pid2 = postgresPid();
  expect(await stop(second.proc)).toBe(0);
  expect(alive(pid2)).toBe(false);
});
