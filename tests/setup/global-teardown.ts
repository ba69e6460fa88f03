import pg from "pg";
import type { RunningPostgres } from "../../src/infra/postgres/server";

export default async function globalTeardown() {
  const server = (globalThis as Record<string, unknown>).__TEST_PG__ as RunningPostgres | undefined;
  if (server) return server.stop();
  // Against a server of your own, leave it as we found it.
  const admin = new pg.Client({ connectionString: process.env.DATABASE_URL });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS "${process.env.TEST_TEMPLATE_DB}" WITH (FORCE)`);
  } finally {
    await admin.end();
  }
}
