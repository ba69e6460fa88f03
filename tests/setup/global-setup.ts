// Starts a throwaway PostgreSQL when DATABASE_URL is unset, and migrates a template database once. Each test
// file then clones the template into its own database (CREATE DATABASE … TEMPLATE, a fast file copy), so test
// files never see each other's rows.
import pg from "pg";
import { migrateDeploy } from "../../src/db/migrate";
import { startTempPostgres } from "../../src/infra/postgres/server";
import { withDatabaseName } from "../helpers/db-url";

export default async function globalSetup() {
  if (!process.env.DATABASE_URL) {
    const server = await startTempPostgres();
    (globalThis as Record<string, unknown>).__TEST_PG__ = server;
    process.env.DATABASE_URL = server.url;
  }
  const base = process.env.DATABASE_URL;
  const template = `bc_test_template_${process.pid}`;
  const admin = new pg.Client({ connectionString: base });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS "${template}"`);
    await admin.query(`CREATE DATABASE "${template}"`);
  } finally {
    await admin.end();
  }
  await migrateDeploy(withDatabaseName(base, template));
  process.env.TEST_TEMPLATE_DB = template;
}
