// Applies the committed migrations with Prisma's own CLI, exactly as `npm run db:migrate` would.
import { spawn } from "node:child_process";
import path from "node:path";

import { projectRoot } from "../lib/paths";

export function migrateDeploy(databaseUrl: string): Promise<void> {
  const bin = path.join(projectRoot, "node_modules", ".bin", "prisma");
  return new Promise((resolve, reject) => {
    const child = spawn(bin, ["migrate", "deploy"], {
      cwd: projectRoot,
      env: { ...process.env, DATABASE_URL: databaseUrl },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout.on("data", (d) => {
      out += d;
    });
    child.stderr.on("data", (d) => {
      out += d;
    });
    child.on("error", reject);
    child.on("exit", (code) =>
      code === 0 ? resolve() : reject(new Error(`prisma migrate deploy failed (exit ${code}):\n${out}`)),
    );
  });
}
