// What each app process keeps in memory must not weaken what the API promises across processes: a key cached
// by a process (ApiKeyCache) still fails on the next call once revoked, in every process; the per-key rate limit
// (spent locally from a budget shared through PostgreSQL: rate-budget.ts) holds across processes within its
// stated tolerance. Two real processes: this test's app, and the real server spawned on the same database.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import request from "supertest";
import { freePort } from "../../src/infra/postgres/binaries";
import { revokeApiKey } from "../../src/services/api/keys";
import { RateBudget } from "../../src/services/api/rate-budget";
import { cliActor } from "../../src/services/audit/record";
import { type ApiStack, api, makeKey, memberWith, newIdempotencyKey, startApiStack } from "../helpers/api";
import { makeClub } from "../helpers/app";
import { violations } from "../helpers/payments";
import { type SpawnedServer, spawnServer } from "../helpers/spawned-server";

const LIMIT = 40; // a chunk of 2 calls per budget request (limit ÷ 20)

let s: ApiStack;
let other: SpawnedServer;
let otherBase: string;
let dataDir: string;
let club: { id: number; clubNumber: string };
beforeAll(async () => {
  s = await startApiStack({ API_RATE_LIMIT_PER_MINUTE: String(LIMIT) });
  club = await makeClub(s.p.db);
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "bc-api-two-"));
  const port = await freePort();
  other = await spawnServer({
    PORT: String(port),
    DATA_DIR: dataDir,
    DATABASE_URL: s.database.url,
    NODE_ENV: "development",
    DEMO_DATA: "false",
    STRIPE_EMULATOR_PORT: "0",
    WEBHOOK_WORKER: "false",
    API_RATE_LIMIT_PER_MINUTE: String(LIMIT),
  });
  otherBase = `http://127.0.0.1:${port}`;
}, 120_000);
afterAll(async () => {
  await other?.stop();
  await s.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
});
afterEach(async () => expect(await violations(s.p)).toEqual([]));

const charge = (member: number) => ({ member, amount: 300, currency: "aud", description: "Table money" });

/** POST /charges to the spawned server. */
const chargeThere = (secret: string, member: number) =>
  request(otherBase)
    .post("/api/v1/charges")
    .set("Authorization", `Bearer ${secret}`)
    .set("Idempotency-Key", newIdempotencyKey())
    .set("Content-Type", "application/json")
    .send(JSON.stringify(charge(member)));

test("a key both processes have cached fails on the very next call in either once it is revoked; nothing booked", async () => {
  const m = await memberWith(s, 10_000n);
  const k = await makeKey(s, { organisationId: club.id });
  // Each process verifies the key once and then keeps it (the second call of each rides the cache).
  for (let i = 0; i < 2; i++) {
    expect((await api(s, k.secret).post("/charges", charge(m.systemNumber))).status).toBe(201);
    expect((await chargeThere(k.secret, m.systemNumber)).status).toBe(201);
  }
  const before = (await s.p.db.account.findUniqueOrThrow({ where: { userId: m.id } })).balanceCents;
  expect(before).toBe(10_000n - 4n * 300n);

  await revokeApiKey(s.p.db, k.id, cliActor());
  // The spawned server: its charge group's claim finds the key revoked.
  const there = await chargeThere(k.secret, m.systemNumber);
  expect(there.status).toBe(401);
  expect(there.body.detail).toMatch(/revoked/);
  // This process, with a call refused for another reason first (a bad body): the key's refusal wins.
  const bad = await api(s, k.secret).post("/charges", { ...charge(m.systemNumber), amount: -1 });
  expect(bad.status).toBe(401);
  expect(bad.body.detail).toMatch(/revoked/);
  const here = await api(s, k.secret).post("/charges", charge(m.systemNumber));
  expect(here.status).toBe(401);
  expect(here.body.detail).toMatch(/revoked/);
  expect((await s.p.db.account.findUniqueOrThrow({ where: { userId: m.id } })).balanceCents).toBe(before);
  expect(await s.p.db.apiCharge.count({ where: { userId: m.id } })).toBe(4);
}, 60_000);

test("the rate limit holds across both processes: at most the limit, at worst a chunk per process fewer", async () => {
  const m = await memberWith(s, 0n);
  const k = await makeKey(s, { organisationId: club.id });
  const statuses: number[] = [];
  for (let i = 0; i < LIMIT + 10; i++) {
    const res =
      i % 2 === 0
        ? await api(s, k.secret).get(`/members/${m.systemNumber}`)
        : await request(otherBase).get(`/api/v1/members/${m.systemNumber}`).set("Authorization", `Bearer ${k.secret}`);
    if (res.status === 429) {
      expect(res.body.code).toBe("rate_limited");
      expect(Number(res.headers["retry-after"])).toBeGreaterThan(0);
    }
    statuses.push(res.status);
  }
  const served = statuses.filter((x) => x === 200).length;
  expect(served).toBeLessThanOrEqual(LIMIT);
  expect(served).toBeGreaterThanOrEqual(LIMIT - 2 * (2 - 1));
  expect(statuses.filter((x) => x !== 200 && x !== 429)).toEqual([]);
}, 60_000);

test("budgets of several processes never add up to more than the limit, even racing", async () => {
  const limit = 100; // chunk 5
  const budgets = Array.from({ length: 3 }, () => new RateBudget(s.p.pool, "test:", limit));
  expect(budgets[0]!.chunk).toBe(5);
  const outcomes = await Promise.all(Array.from({ length: 300 }, (_, i) => budgets[i % 3]!.take("race")));
  const granted = outcomes.filter((o) => o === null).length;
  expect(granted).toBeLessThanOrEqual(limit);
  expect(granted).toBeGreaterThanOrEqual(limit - 3 * (5 - 1));
  for (const o of outcomes) if (o !== null) expect(o).toBeGreaterThan(0);
  // A small limit is counted exactly (a chunk of one).
  const exact = [new RateBudget(s.p.pool, "test:", 7), new RateBudget(s.p.pool, "test:", 7)];
  const small = await Promise.all(Array.from({ length: 20 }, (_, i) => exact[i % 2]!.take("small")));
  expect(small.filter((o) => o === null).length).toBe(7);
});
