// The real application on a private database, plus helpers to create people and sign in through the real
// sign-in form (CSRF token and all).
import type { Express } from "express";
import request from "supertest";
import type TestAgent from "supertest/lib/agent";
import { createApp } from "../../src/app";
import { loadConfig } from "../../src/config";
import type { Db } from "../../src/db/client";
import { createLogger } from "../../src/lib/logger";
import { createOrganisation } from "../../src/services/orgs/create-organisation";
import { grantRole } from "../../src/services/roles/grant-role";
import { createUser } from "../../src/services/users/create-user";
import { createTestDatabase, type TestDatabase } from "./db";
import { enrolTestUser, nextCodeFor, TEST_ENCRYPTION_KEY } from "./two-factor";

export const PASSWORD = "correct-horse-battery";

export interface TestApp {
  app: Express;
  db: Db;
  database: TestDatabase;
  close: () => Promise<void>;
}

export async function startTestApp(env: Record<string, string> = {}): Promise<TestApp> {
  const database = await createTestDatabase();
  const config = loadConfig({
    NODE_ENV: "test",
    LOG_LEVEL: "silent",
    DATABASE_URL: database.url,
    APP_ENCRYPTION_KEY: TEST_ENCRYPTION_KEY,
    ...env,
  });
  const app = createApp({
    config,
    database,
    logger: createLogger(config.LOG_LEVEL),
    sessionSecret: "test-secret-test-secret-test-secret-0123",
  });
  return { app, db: database.prisma, database, close: database.drop };
}

let seq = 0;
/**
 * A fresh member with a unique ABF number and e-mail, optionally holding a payments role. Holders of an EDIT
 * role come enrolled in two-factor sign-in (as the rules require) unless `twoFactor: false`; members and viewers
 * only with `twoFactor: true`. `signIn` answers the second step for them.
 */
export async function makeUser(
  db: Db,
  opts: {
    level?: "VIEW" | "EDIT";
    orgId?: number | null;
    firstName?: string;
    isActive?: boolean;
    twoFactor?: boolean;
  } = {},
) {
  seq += 1;
  const n = 700000 + (process.pid % 1000) * 100 + seq;
  const user = await createUser(db, {
    systemNumber: n,
    firstName: opts.firstName ?? "Test",
    lastName: `Member${seq}`,
    email: `member${n}@example.test`,
    password: PASSWORD,
    isActive: opts.isActive ?? true,
  });
  if (opts.level) await grantRole(db, { userId: user.id, organisationId: opts.orgId ?? null, level: opts.level });
  if (opts.twoFactor ?? opts.level === "EDIT") await enrolTestUser(db, user);
  return user;
}

export async function makeClub(db: Db, name = "Test Club") {
  seq += 1;
  return createOrganisation(db, { clubNumber: `T${process.pid % 10000}-${seq}`, name: `${name} ${seq}` });
}

/** The CSRF token embedded in a page's form. */
export function csrfFrom(html: string): string {
  const m = /name="_csrf" value="([^"]+)"/.exec(html);
  if (!m?.[1]) throw new Error("no CSRF token on the page");
  return m[1];
}

export async function csrfToken(agent: TestAgent, path = "/login"): Promise<string> {
  const res = await agent.get(path);
  return csrfFrom(res.text);
}

/**
 * Signs in through the form, and through the two-factor step with a real current code when the user is enrolled
 * (users the tests enrolled, demo staff); returns the agent (which keeps the session cookie) and the last response.
 */
export async function signIn(app: Express | string, identifier: string | number, password = PASSWORD) {
  const agent = request.agent(app);
  const token = await csrfToken(agent);
  let res = await agent
    .post("/login")
    .type("form")
    .send({ _csrf: token, identifier: String(identifier), password });
  if (res.status === 302 && res.headers.location === "/login/two-factor") {
    const code = await nextCodeFor(identifier);
    if (!code) throw new Error(`${identifier} has two-factor sign-in, but the tests do not know their secret`);
    const step = await agent.get("/login/two-factor");
    res = await agent
      .post("/login/two-factor")
      .type("form")
      .send({ _csrf: csrfFrom(step.text), code });
  }
  return { agent, res };
}

export function sessionCookie(res: request.Response): string | undefined {
  const cookies = res.headers["set-cookie"] as unknown as string[] | undefined;
  return cookies?.find((c) => c.startsWith("bc.sid="))?.split(";")[0];
}
