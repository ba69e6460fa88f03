// Idempotency-Key with Stripe's semantics, on top of the ledger's own keys.
import request from "supertest";
import { type ApiStack, api, makeKey, memberWith, newIdempotencyKey, startApiStack } from "../helpers/api";
import { makeClub } from "../helpers/app";
import { checkResponse } from "../helpers/openapi-contract";
import { violations } from "../helpers/payments";

let s: ApiStack;
let club: { id: number; clubNumber: string };
let key: { id: number; secret: string };
beforeAll(async () => {
  s = await startApiStack({ API_IDEMPOTENCY_LEASE_SECONDS: "1" });
  club = await makeClub(s.p.db);
  key = await makeKey(s, { organisationId: club.id });
});
afterAll(() => s.close());
afterEach(async () => expect(await violations(s.p)).toEqual([]));

/** Entries on the member's account: one per booking that touched it. */
async function postings(userId: number) {
  const account = await s.p.db.account.findUnique({ where: { userId } });
  return account ? s.p.db.entry.count({ where: { accountId: account.id } }) : 0;
}

const body = (member: number, amount = 700) => ({ member, amount, currency: "aud", description: "Session fee" });

test("a retry with the same key and body gets the first answer byte for byte, marked replayed; nothing booked twice", async () => {
  const m = await memberWith(s, 5_000n);
  const k = newIdempotencyKey();
  const first = await api(s, key.secret).post("/charges", body(m.systemNumber), k);
  expect(first.status).toBe(201);
  expect(first.headers["idempotent-replayed"]).toBeUndefined();
  const entriesAfterFirst = await postings(m.id);
  const second = await api(s, key.secret).post("/charges", body(m.systemNumber), k);
  expect(second.status).toBe(201);
  expect(second.headers["idempotent-replayed"]).toBe("true");
  expect(second.text).toBe(first.text);
  expect(second.headers["content-type"]).toBe(first.headers["content-type"]);
  expect(await postings(m.id)).toBe(entriesAfterFirst);

  // A refusal is an answer too: the same 402 comes back.
  const poor = await memberWith(s, 0n);
  const k2 = newIdempotencyKey();
  const refused = await api(s, key.secret).post("/charges", body(poor.systemNumber), k2);
  const again = await api(s, key.secret).post("/charges", body(poor.systemNumber), k2);
  expect([refused.status, again.status]).toEqual([402, 402]);
  expect(again.text).toBe(refused.text);
  expect(again.headers["idempotent-replayed"]).toBe("true");

  // The call log says which was replayed.
  await new Promise((r) => setTimeout(r, 100));
  const logged = await s.p.db.apiCallLog.findMany({ where: { idempotencyKey: k }, orderBy: { id: "asc" } });
  expect(logged.map((l) => [l.status, l.replayed, l.route, l.apiKeyId])).toEqual([
    [201, false, "/api/v1/charges", key.id],
    [201, true, "/api/v1/charges", key.id],
  ]);
});

test("the same key with a different body: 422 idempotency_conflict, nothing booked", async () => {
  const m = await memberWith(s, 5_000n);
  const k = newIdempotencyKey();
  await api(s, key.secret).post("/charges", body(m.systemNumber, 700), k);
  const before = await postings(m.id);
  const res = await api(s, key.secret).post("/charges", body(m.systemNumber, 800), k);
  expect(res.status).toBe(422);
  expect(res.body.code).toBe("idempotency_conflict");
  expect(await postings(m.id)).toBe(before);
  // Another endpoint with the same key is a different request too.
  const other = await api(s, key.secret).post("/ious", body(m.systemNumber, 700), k);
  expect(other.body.code).toBe("idempotency_conflict");
});

test("20 concurrent requests with one key: one booking; every other answer is 409 or the replay", async () => {
  const m = await memberWith(s, 50_000n);
  const k = newIdempotencyKey();
  const payload = JSON.stringify(body(m.systemNumber, 1_000));
  const results = await Promise.all(
    Array.from({ length: 20 }, () =>
      request(s.base)
        .post("/api/v1/charges")
        .set("Authorization", `Bearer ${key.secret}`)
        .set("Idempotency-Key", k)
        .set("Content-Type", "application/json")
        .send(payload),
    ),
  );
  for (const r of results) checkResponse(s.doc, "post", "/charges", r);
  const created = results.filter((r) => r.status === 201);
  const busy = results.filter((r) => r.status === 409);
  expect(created.length + busy.length).toBe(20);
  expect(created.length).toBeGreaterThanOrEqual(1);
  expect(new Set(created.map((r) => r.text)).size).toBe(1);
  expect(created.filter((r) => r.headers["idempotent-replayed"] !== "true")).toHaveLength(1);
  for (const r of busy) expect(r.body.code).toBe("idempotency_in_progress");
  expect(await postings(m.id)).toBe(2); // the opening balance and one charge
  const account = await s.p.db.account.findUniqueOrThrow({ where: { userId: m.id } });
  expect(account.balanceCents).toBe(49_000n);
});

test("a request that died holding its key (lease left behind) is run again once the lease runs out, booking nothing twice", async () => {
  const m = await memberWith(s, 5_000n);
  const k = newIdempotencyKey();
  const first = await api(s, key.secret).post("/charges", body(m.systemNumber), k);
  expect(first.status).toBe(201);
  // As if the process had died after booking but before storing the answer: the row is back to "running".
  await s.p.pool.query(
    `UPDATE api_idempotency SET response_status = NULL, response_body = NULL, response_type = NULL,
            locked_until = now() + interval '1 second' WHERE api_key_id = $1 AND idempotency_key = $2`,
    [key.id, k],
  );
  expect((await api(s, key.secret).post("/charges", body(m.systemNumber), k)).status).toBe(409);
  await new Promise((r) => setTimeout(r, 1_100));
  const retried = await api(s, key.secret).post("/charges", body(m.systemNumber), k);
  expect(retried.status).toBe(201);
  expect(retried.body.id).toBe(first.body.id);
  expect(await postings(m.id)).toBe(2);
});
