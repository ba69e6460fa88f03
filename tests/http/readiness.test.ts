// /readyz: 200 with the database reachable, 503 once the process is draining for shutdown (issue 15, item 8),
// while /healthz (liveness) stays 200 throughout.
import request from "supertest";
import { createApp } from "../../src/app";
import { loadConfig } from "../../src/config";
import { createLogger } from "../../src/lib/logger";
import { createTestDatabase, type TestDatabase } from "../helpers/db";
import { TEST_ENCRYPTION_KEY } from "../helpers/two-factor";

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(() => database.drop());

test("readiness turns 503 while draining; liveness does not", async () => {
  let draining = false;
  const config = loadConfig({ NODE_ENV: "test", LOG_LEVEL: "silent", DATABASE_URL: database.url });
  const app = createApp({
    config,
    database,
    logger: createLogger("silent"),
    sessionSecret: "test-secret-test-secret-test-secret-0123",
    encryptionKey: TEST_ENCRYPTION_KEY,
    draining: () => draining,
  });
  expect((await request(app).get("/readyz")).status).toBe(200);
  draining = true;
  const res = await request(app).get("/readyz");
  expect(res.status).toBe(503);
  expect(res.body).toEqual({ status: "draining" });
  expect((await request(app).get("/healthz")).status).toBe(200);
});
