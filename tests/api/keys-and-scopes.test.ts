// Who may do what: unknown, revoked and expired keys, scopes, an organisation's key and other organisations,
// the per-key rate limit.

import { type ApiStack, api, makeKey, memberWith, startApiStack } from "../helpers/api";
import { makeClub } from "../helpers/app";
import { violations } from "../helpers/payments";

let s: ApiStack;
let club: { id: number; clubNumber: string };
let other: { id: number; clubNumber: string };
beforeAll(async () => {
  s = await startApiStack({ API_RATE_LIMIT_PER_MINUTE: "5" });
  club = await makeClub(s.p.db);
  other = await makeClub(s.p.db);
});
afterAll(() => s.close());
afterEach(async () => expect(await violations(s.p)).toEqual([]));

const charge = (member: number, extra: Record<string, unknown> = {}) => ({
  member,
  amount: 300,
  currency: "aud",
  description: "Table money",
  ...extra,
});

test("no key, a malformed key and an unknown key: 401 unauthorized", async () => {
  const m = await memberWith(s, 1_000n);
  for (const secret of [null, "nonsense", `bc_test_AAAAAAAA${"A".repeat(43)}`]) {
    const res = await api(s, secret).get(`/members/${m.systemNumber}`);
    expect(res.status).toBe(401);
    expect(res.body.code).toBe("unauthorized");
    expect(res.headers["www-authenticate"]).toMatch(/^Bearer/);
  }
});

test("a revoked key fails on the very next call; an expired key fails", async () => {
  const m = await memberWith(s, 1_000n);
  const k = await makeKey(s, { organisationId: club.id });
  expect((await api(s, k.secret).get(`/members/${m.systemNumber}`)).status).toBe(200);
  await s.p.db.apiKey.update({ where: { id: k.id }, data: { revokedAt: new Date() } });
  const res = await api(s, k.secret).post("/charges", charge(m.systemNumber));
  expect(res.status).toBe(401);
  expect(res.body.detail).toMatch(/revoked/);

  const soon = await makeKey(s, { organisationId: club.id, expiresAt: new Date(Date.now() + 800) });
  expect((await api(s, soon.secret).get(`/members/${m.systemNumber}`)).status).toBe(200);
  await new Promise((r) => setTimeout(r, 900));
  const expired = await api(s, soon.secret).get(`/members/${m.systemNumber}`);
  expect(expired.status).toBe(401);
  expect(expired.body.detail).toMatch(/expired/);
  expect((await s.p.db.account.findUniqueOrThrow({ where: { userId: m.id } })).balanceCents).toBe(1_000n);
});

test("an organisation's key charges only to its own organisation: 403 forbidden_scope otherwise, nothing booked", async () => {
  const m = await memberWith(s, 5_000n);
  const payee = await memberWith(s, 0n);
  const k = (await makeKey(s, { organisationId: club.id })).secret;
  for (const extra of [{ organisation: other.clubNumber }, { payee_member: payee.systemNumber }]) {
    const res = await api(s, k).post("/charges", charge(m.systemNumber, extra));
    expect(res.status).toBe(403);
    expect(res.body.code).toBe("forbidden_scope");
  }
  const iou = await api(s, k).post("/ious", { ...charge(m.systemNumber), organisation: other.clubNumber });
  expect(iou.body.code).toBe("forbidden_scope");
  expect((await api(s, k).post("/charges", charge(m.systemNumber, { organisation: club.clubNumber }))).status).toBe(
    201,
  );
  expect((await s.p.db.account.findUniqueOrThrow({ where: { userId: m.id } })).balanceCents).toBe(4_700n);
});

test("scopes: each call needs its scope", async () => {
  const m = await memberWith(s, 5_000n);
  const readOnly = (await makeKey(s, { organisationId: club.id, scopes: ["read"] })).secret;
  expect((await api(s, readOnly).post("/charges", charge(m.systemNumber))).body.code).toBe("forbidden_scope");
  expect((await api(s, readOnly).post("/refunds", { charge: "ch_1" })).body.code).toBe("forbidden_scope");
  expect((await api(s, readOnly).post("/ious", charge(m.systemNumber))).body.code).toBe("forbidden_scope");
  expect((await api(s, readOnly).get("/charges")).status).toBe(200);

  const chargesOnly = (await makeKey(s, { organisationId: club.id, scopes: ["charges:write"] })).secret;
  for (const when of ["iou", "checkout"]) {
    const res = await api(s, chargesOnly).post("/charges", charge(m.systemNumber, { when_insufficient: when }));
    expect(res.status).toBe(403);
    expect(res.body.detail).toMatch(when === "iou" ? /ious:write/ : /checkouts:write/);
  }
  expect((await api(s, chargesOnly).get("/ious/iou_1")).body.code).toBe("forbidden_scope");
  expect((await s.p.db.account.findUniqueOrThrow({ where: { userId: m.id } })).balanceCents).toBe(5_000n);

  // A federation key must say whom the member pays.
  const fed = (await makeKey(s, { scopes: ["charges:write"] })).secret;
  expect((await api(s, fed).post("/charges", charge(m.systemNumber))).body.code).toBe("invalid_request");
});

test("rate limit per key: 429 rate_limited with Retry-After; another key is not affected", async () => {
  const m = await memberWith(s, 0n);
  const a = (await makeKey(s, { organisationId: club.id })).secret;
  const b = (await makeKey(s, { organisationId: club.id })).secret;
  const answers = [];
  for (let i = 0; i < 6; i++) answers.push(await api(s, a).get(`/members/${m.systemNumber}`));
  expect(answers.slice(0, 5).map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
  expect(answers[5]!.status).toBe(429);
  expect(answers[5]!.body.code).toBe("rate_limited");
  expect(Number(answers[5]!.headers["retry-after"])).toBeGreaterThan(0);
  expect((await api(s, b).get(`/members/${m.systemNumber}`)).status).toBe(200);
});
