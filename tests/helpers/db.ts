// A private database for one test file, cloned from the migrated template.
import { randomBytes } from "node:crypto";
import pg from "pg";
import { connectDatabase, type Database } from "../../src/db/client";
import { withDatabaseName } from "./db-url";

export interface TestDatabase extends Database {
  url: string;
  /** Closes connections and drops the database. */
  drop: () => Promise<void>;
}

/** Runs one statement on the server's base database (CREATE/DROP DATABASE). */
export async function adminQuery(sql: string) {
  const c = new pg.Client({ connectionString: process.env.DATABASE_URL });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

export async function createTestDatabase(opts: { max?: number } = {}): Promise<TestDatabase> {
  const template = process.env.TEST_TEMPLATE_DB;
  if (!template || !process.env.DATABASE_URL) throw new Error("global setup did not run");
  const name = `bc_test_${randomBytes(6).toString("hex")}`;
  await adminQuery(`CREATE DATABASE "${name}" TEMPLATE "${template}"`);
  const url = withDatabaseName(process.env.DATABASE_URL, name);
  const database = connectDatabase(url, opts);
  return {
    ...database,
    url,
    drop: async () => {
      await database.close();
      await adminQuery(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    },
  };
}

/** How many tables a database's public schema holds (0: nothing was created in it). */
export async function publicTableCount(url: string): Promise<number> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query("SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = 'public'")).rows[0].n;
  } finally {
    await c.end();
  }
}
