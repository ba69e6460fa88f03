// MIGRATE_ON_START=false (production behind compose's one-shot migrate service): start-up applies nothing and
// refuses a database the deploy has not migrated, naming what is missing, instead of failing in some request.
import { committedMigrations, prepareSchema } from "../../src/db/migrate";
import { adminQuery, createTestDatabase, publicTableCount, type TestDatabase } from "../helpers/db";
import { withDatabaseName } from "../helpers/db-url";

let migrated: TestDatabase;
const blank = `bc_blank_${process.pid}`;
const blankUrl = () => withDatabaseName(process.env.DATABASE_URL!, blank);

beforeAll(async () => {
  migrated = await createTestDatabase();
  await adminQuery(`CREATE DATABASE "${blank}"`);
});
afterAll(async () => {
  await migrated.drop();
  await adminQuery(`DROP DATABASE IF EXISTS "${blank}" WITH (FORCE)`);
});

test("a fully migrated database is accepted", async () => {
  await expect(prepareSchema(migrated.url, false)).resolves.toBeUndefined();
});

test("a blank database is refused, nothing is created in it, and the message says what to run", async () => {
  const all = committedMigrations();
  expect(all.length).toBeGreaterThan(5);
  await expect(prepareSchema(blankUrl(), false)).rejects.toThrow(
    `The database lacks ${all.length} migration(s) (${all.join(", ")}) and MIGRATE_ON_START is false: ` +
      "run `npm run db:migrate` (docker compose: the migrate service) first.",
  );
  expect(await publicTableCount(blankUrl())).toBe(0);
});

test("a database missing the newest migration is refused; one whose newest migration failed is too", async () => {
  const newest = committedMigrations().at(-1)!;
  await migrated.pool.query("UPDATE _prisma_migrations SET finished_at = NULL WHERE migration_name = $1", [newest]);
  await expect(prepareSchema(migrated.url, false)).rejects.toThrow(`lacks 1 migration(s) (${newest})`);
  await migrated.pool.query("DELETE FROM _prisma_migrations WHERE migration_name = $1", [newest]);
  await expect(prepareSchema(migrated.url, false)).rejects.toThrow(`lacks 1 migration(s) (${newest})`);
});
