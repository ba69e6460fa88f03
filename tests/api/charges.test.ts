// POST /api/v1/charges and the reads: what a charge books, what it answers, and what it refuses.

import { type ApiStack, api, makeKey, memberWith, outboxEvents, startApiStack } from "../helpers/api";
import { makeClub } from "../helpers/app";
import { CARDS, saveCard, violations } from "../helpers/payments";

let s: ApiStack;
let club: { id: number; clubNumber: string };
let clubKey: string;
beforeAll(async () => {
  s = await startApiStack();
  club = await makeClub(s.p.db);
  clubKey = (await makeKey(s, { organisationId: club.id })).secret;
});
afterAll(() => s.close());
afterEach(async () => expect(await violations(s.p)).toEqual([]));

const balanceOf = async (userId: number) =>
  (await s.p.db.account.findUnique({ where: { userId }, select: { balanceCents: true } }))?.balanceCents ?? 0n;
const clubBalance = async () =>
  (await s.p.db.account.findUnique({ where: { organisationId: club.id }, select: { balanceCents: true } }))
    ?.balanceCents ?? 0n;

const charge = (member: number, amount: number, extra: Record<string, unknown> = {}) => ({
  member,
  amount,
  currency: "aud",
  description: "Table money",
  ...extra,
});

test("a charge from the balance books member → club, answers 201 with the posting reference, and records charge.succeeded in its transaction", async () => {
  const m = await memberWith(s, 5_000n);
  const before = await clubBalance();
  const res = await api(s, clubKey).post(
    "/charges",
    charge(m.systemNumber, 1_500, { reference: "entry-77", metadata: { table: "7" } }),
  );
  expect(res.status).toBe(201);
  expect(res.body).toMatchObject({
    object: "charge",
    status: "succeeded",
    amount: 1500,
    member: m.systemNumber,
    organisation: club.clubNumber,
    reference: "entry-77",
    metadata: { table: "7" },
  });
  expect(res.body.posting_reference).toMatch(/\S/);
  expect(res.body).not.toHaveProperty("balance_after"); // an organisation's key may not read balances
  expect(await balanceOf(m.id)).toBe(3_500n);
  expect(await clubBalance()).toBe(before + 1_500n);
  const event = s.events.find(
    (e) => e.type === "charge.succeeded" && (e.data.charge as { id: string }).id === res.body.id,
  );
  expect(event).toMatchObject({ organisationId: club.id, inTransaction: true });
  expect((await outboxEvents(s, "charge.succeeded")).map((e) => e.source_key)).toContain(
    `charge.succeeded:${res.body.id}`,
  );

  const read = await api(s, clubKey).get(`/charges/${res.body.id}`);
  expect(read.status).toBe(200);
  expect(read.body).toEqual(res.body);
  const listed = await api(s, clubKey).get("/charges?reference=entry-77");
  expect(listed.body.data.map((c: { id: string }) => c.id)).toEqual([res.body.id]);
});

test("not enough money with when_insufficient fail: 402 insufficient_funds, nothing booked, charge.failed recorded", async () => {
  const m = await memberWith(s, 1_000n);
  const res = await api(s, clubKey).post("/charges", charge(m.systemNumber, 1_500));
  expect(res.status).toBe(402);
  expect(res.headers["content-type"]).toMatch(/^application\/problem\+json/);
  expect(res.body).toMatchObject({ code: "insufficient_funds", status: 402 });
  expect(res.body).not.toHaveProperty("balance");
  expect(await balanceOf(m.id)).toBe(1_000n);
  expect(
    s.events.some((e) => e.type === "charge.failed" && (e.data.charge as { id: string }).id === res.body.charge),
  ).toBe(true);

  // A federation key with read is told the balance.
  const fed = (await makeKey(s, { scopes: ["charges:write", "read"] })).secret;
  const again = await api(s, fed).post("/charges", charge(m.systemNumber, 1_500, { organisation: club.clubNumber }));
  expect(again.status).toBe(402);
  expect(again.body.balance).toBe(1000);
});

test("auto top-up rescues a charge the balance does not cover (payment_api_batch semantics)", async () => {
  const m = await memberWith(s, 500n);
  await saveCard(s, m.id, CARDS.ok, 5_000n);
  const res = await api(s, clubKey).post("/charges", charge(m.systemNumber, 3_000));
  expect(res.status).toBe(201);
  expect(res.body).toMatchObject({ status: "succeeded", top_up_amount: 5_000 });
  expect(await balanceOf(m.id)).toBe(500n + 5_000n - 3_000n);
});

test("when_insufficient iou: an IOU to the club instead, iou.created recorded with it", async () => {
  const m = await memberWith(s, 0n);
  const res = await api(s, clubKey).post("/charges", charge(m.systemNumber, 2_000, { when_insufficient: "iou" }));
  expect(res.status).toBe(201);
  expect(res.body).toMatchObject({ status: "iou", failure_code: "insufficient_funds" });
  const iou = await api(s, clubKey).get(`/ious/${res.body.iou}`);
  expect(iou.body).toMatchObject({
    status: "unpaid",
    amount: 2000,
    member: m.systemNumber,
    organisation: club.clubNumber,
  });
  // Recorded by the IOU service in the IOU's transaction, straight to the outbox.
  const id = Number(res.body.iou.replace("iou_", ""));
  expect((await outboxEvents(s, "iou.created")).map((e) => e.source_key)).toContain(`iou.created:${id}`);
});

test("bad input is a 400 problem naming the field, never a 500; unknown member 404; unknown route 404", async () => {
  const m = await memberWith(s, 0n);
  const client = api(s, clubKey);
  for (const body of [
    charge(m.systemNumber, -5),
    charge(m.systemNumber, 1.5),
    charge(m.systemNumber, 100, { currency: "usd" }),
    charge(m.systemNumber, 100, { surprise: true }),
    charge(m.systemNumber, 100, { metadata: Object.fromEntries(Array.from({ length: 21 }, (_, i) => [`k${i}`, "v"])) }),
    { member: "abc" },
    [],
    "text",
  ]) {
    const res = await client.post("/charges", body);
    expect(res.status).toBe(400);
    expect(res.body.code).toBe("invalid_request");
  }
  // Missing and wrongly typed fields are named in plain words (zod's own: "Invalid input: expected string…").
  const { description: _, ...noDescription } = charge(m.systemNumber, 100);
  expect((await client.post("/charges", noDescription)).body.detail).toBe("description: is required");
  expect((await client.post("/charges", charge(m.systemNumber, 100, { description: 5 }))).body.detail).toBe(
    "description: must be a string",
  );
  const broken = await client.post("/charges", undefined, "k1", {});
  expect(broken.status).toBe(415);
  const noKey = await client.post("/charges", charge(m.systemNumber, 100), null);
  expect(noKey.body).toMatchObject({ status: 400, code: "invalid_request" });
  expect((await client.post("/charges", charge(999_999_999, 100))).body.code).toBe("member_not_found");
  expect((await client.get("/members/999999999")).body.code).toBe("member_not_found");
  expect((await client.get("/charges/ch_999999")).status).toBe(404);
  expect((await client.get("/charges/nonsense")).status).toBe(404);
});

test("GET /members/{abf}: name and chargeability; the balance only for a federation key with read", async () => {
  const m = await memberWith(s, 4_200n);
  const seen = await api(s, clubKey).get(`/members/${m.systemNumber}`);
  expect(seen.body).toEqual({
    object: "member",
    member: m.systemNumber,
    name: `${m.firstName} ${m.lastName}`,
    active: true,
    chargeable: true,
    auto_top_up: false,
  });
  const fedRead = (await makeKey(s, { scopes: ["read"] })).secret;
  expect((await api(s, fedRead).get(`/members/${m.systemNumber}`)).body.balance).toBe(4200);
  const fedNoRead = (await makeKey(s, { scopes: ["charges:write"] })).secret;
  expect((await api(s, fedNoRead).get(`/members/${m.systemNumber}`)).body).not.toHaveProperty("balance");
});

test("GET /charges pages with a cursor, newest first, only the key's organisation", async () => {
  const other = await makeClub(s.p.db);
  const otherKey = (await makeKey(s, { organisationId: other.id })).secret;
  const m = await memberWith(s, 10_000n);
  const ids: string[] = [];
  for (let i = 0; i < 5; i++) {
    ids.push((await api(s, otherKey).post("/charges", charge(m.systemNumber, 100, { reference: "paged" }))).body.id);
  }
  const first = await api(s, otherKey).get("/charges?reference=paged&limit=2");
  expect(first.body.data.map((c: { id: string }) => c.id)).toEqual([ids[4], ids[3]]);
  expect(first.body.has_more).toBe(true);
  const second = await api(s, otherKey).get(`/charges?reference=paged&limit=2&cursor=${first.body.next_cursor}`);
  expect(second.body.data.map((c: { id: string }) => c.id)).toEqual([ids[2], ids[1]]);
  const third = await api(s, otherKey).get(`/charges?reference=paged&limit=2&cursor=${second.body.next_cursor}`);
  expect(third.body).toMatchObject({ has_more: false, next_cursor: null });
  // The first club's key sees none of them.
  expect((await api(s, clubKey).get("/charges?reference=paged")).body.data).toEqual([]);
  expect((await api(s, clubKey).get(`/charges/${ids[0]}`)).status).toBe(404);
  expect((await api(s, otherKey).get("/charges?created_after=yesterday")).status).toBe(400);
});
