// `npm start` as a user runs it: embedded PostgreSQL in the data folder, demo data on first run, data kept
// across a restart, the demo logins and the address last on the terminal, short request lines, and nothing left
// running after SIGTERM.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import request from "supertest";
import { freePort } from "../../src/infra/postgres/binaries";
import { DEMO_PASSWORD } from "../../src/services/demo/seed-demo";
import { csrfFrom } from "../helpers/app";
import { type SpawnedServer, spawnServer } from "../helpers/spawned-server";

// Two full start-ups (one creating a PostgreSQL cluster): slow on a loaded machine.
jest.setTimeout(180_000);

let dataDir: string;
beforeAll(() => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "bc-start-"));
  fs.chmodSync(dataDir, 0o755);
});
let running: SpawnedServer | null = null;
afterAll(async () => {
  await running?.stop(); // a failed expectation must not leave the server (and its PostgreSQL) behind
  fs.rmSync(dataDir, { recursive: true, force: true });
});

async function start(port: number) {
  running = await spawnServer({
    PORT: String(port),
    STRIPE_EMULATOR_PORT: String(await freePort()),
    DATA_DIR: dataDir,
    NODE_ENV: "development",
    DATABASE_URL: undefined,
    SESSION_SECRET: undefined,
  });
  return running;
}

/** What the terminal shows at the end of start-up: the demo logins, then the address, and nothing after. */
function expectLoginsAndAddressLast(startOutput: string) {
  const lines = startOutput.trimEnd().split("\n");
  expect(lines.at(-1)).toMatch(/INFO: Bridge Credits is serving on http:\/\/127\.0\.0\.1:\d+$/);
  expect(lines.at(-4)).toMatch(/club officer \(Harbourside\)\s+treasurer@demo\.bridgecredits\.test\s+ABF 620103/);
  expect(lines.at(-3)).toMatch(/finance editor 2 \(approves\)\s+approver@demo\.bridgecredits\.test\s+ABF 620104/);
  expect(lines.slice(-10).join("\n")).toContain('Every demo login uses the password "bridge-demo-2026"');
  expect(lines.slice(-10).join("\n")).toContain("npm run admin -- demo-code --user <e-mail>");
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
  expect(first.output()).toContain("Demo data added");
  expectLoginsAndAddressLast(first.output());
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
  // Development logs: one short line per request, never the headers.
  expect(first.output()).toMatch(/INFO: GET \/change-password 200 \d+ ms\n/);
  expect(first.output()).not.toMatch(/"headers"|user-agent|cookie/i);
  expect(await first.stop()).toBe(0);
  expect(alive(pgPid)).toBe(false);

  const second = await start(port);
  expect(second.output()).not.toContain("Demo data added");
  expectLoginsAndAddressLast(second.output());
  expect((await signIn(base, "margaret@demo.bridgecredits.test", "kept-across-restarts")).res.status).toBe(302);
  expect((await signIn(base, "620002", DEMO_PASSWORD)).res.status).toBe(302);
  const pid2 = postgresPid();
  expect(await second.stop()).toBe(0);
  expect(alive(pid2)).toBe(false);
});
