// Applies the committed migrations with Prisma's own CLI, exactly as `npm run db:migrate` would; or, where a
// deploy runs them once beforehand (MIGRATE_ON_START=false), only checks that they have all been applied.
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import pg from "pg";

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

/** The committed migrations' names (their folder names under prisma/migrations), in order. */
export function committedMigrations(dir = path.join(projectRoot, "prisma", "migrations")): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && fs.existsSync(path.join(dir, e.name, "migration.sql")))
    .map((e) => e.name)
    .sort();
}

/** Committed migrations the database has not (successfully) applied; all of them on a blank database. */
export async function pendingMigrations(databaseUrl: string, committed = committedMigrations()): Promise<string[]> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const table = await client.query("SELECT to_regclass('_prisma_migrations') IS NOT NULL AS present");
    if (!table.rows[0].present) return committed;
    const { rows } = await client.query<{ migration_name: string }>(
      "SELECT migration_name FROM _prisma_migrations WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL",
    );
    const applied = new Set(rows.map((r) => r.migration_name));
    return committed.filter((m) => !applied.has(m));
  } finally {
    await client.end();
  }
}

/** Advisory lock key held while migrating at start-up ("BCMIGRAT" in ASCII). */
export const MIGRATE_LOCK = 0x42434d49_4752_4154n;

/**
 * Migrates under a session advisory lock, so containers starting at once on one database migrate one after the
 * other (the later ones find nothing left to apply) rather than side by side.
 */
async function migrateOnce(databaseUrl: string): Promise<void> {
  const lock = new pg.Client({ connectionString: databaseUrl });
  await lock.connect();
  try {
    await lock.query("SELECT pg_advisory_lock($1)", [MIGRATE_LOCK.toString()]);
    await migrateDeploy(databaseUrl);
  } finally {
    await lock.end(); // ends the session, and with it the lock
  }
}

/**
 * Start-up's schema step (once per start, in the primary when there are workers): migrate, or refuse to run on a database the deploy's
 * one-shot migration has not brought up to date, rather than failing later in some request.
 */
export async function prepareSchema(databaseUrl: string, migrateOnStart: boolean): Promise<void> {
  if (migrateOnStart) return migrateOnce(databaseUrl);
  const pending = await pendingMigrations(databaseUrl);
  if (pending.length > 0) {
    throw new Error(
      `The database lacks ${pending.length} migration(s) (${pending.join(", ")}) and MIGRATE_ON_START is false: ` +
        "run `npm run db:migrate` (docker compose: the migrate service) first.",
    );
  }
}
