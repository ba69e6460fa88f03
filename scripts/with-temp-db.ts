// Runs a command against a throwaway PostgreSQL (when DATABASE_URL is unset), e.g. `prisma migrate dev` while
// writing a migration. The cluster is deleted when the command ends.
import { spawn } from "node:child_process";
import { startTempPostgres } from "../src/infra/postgres/server";

async function main() {
  const [cmd, ...args] = process.argv.slice(2);
  if (!cmd) {
    console.error("usage: node --import tsx scripts/with-temp-db.ts <command> [args…]");
    process.exit(2);
  }
  const pg = process.env.DATABASE_URL ? null : await startTempPostgres();
  const env = { ...process.env, DATABASE_URL: process.env.DATABASE_URL ?? pg?.url };
  const child = spawn(cmd, args, { stdio: "inherit", env });
  for (const sig of ["SIGINT", "SIGTERM"] as const) process.on(sig, () => child.kill(sig));
  child.on("exit", async (code, signal) => {
    await pg?.stop();
    process.exit(code ?? (signal ? 1 : 0));
  });
}
void main();
