// POST /charges in a shared transaction (charge-group.ts): charges queued together are claimed, booked, recorded,
// evented and answered in ONE transaction; whatever in the group cannot be booked that way — a key used before,
// the same key twice, a balance that does not cover the charge — leaves the group and gets its own exact answer,
// without failing the others.
import pg from "pg";
import request from "supertest";
import type { ChargeGroupWriter } from "../../src/services/api/charge-group";
import { createApiKey } from "../../src/services/api/keys";
import { cliActor } from "../../src/services/audit/record";
import { bookInTransaction } from "../../src/services/ledger/transaction";
import {
  type ApiStack,
  api,
  makeKey,
  memberWith,
  newIdempotencyKey,
  outboxEvents,
  startApiStack,
} from "../helpers/api";
import { makeClub, makeUser } from "../helpers/app";
import { startCardStack } from "../helpers/card-stack";
import { fundMember, violations } from "../helpers/payments";

let s: ApiStack;
beforeAll(async () => {
  s = await startApiStack();
});
afterAll(() => s.close());
afterEach(async () => expect(await violations(s.p)).toEqual([]));

const group = () => s.app.locals.chargeGroup as ChargeGroupWriter;

async function until(what: string, ok: () => Promise<boolean> | boolean) {
  for (let i = 0; !(await ok()); i++) {
    if (i > 400) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Sessions of this database waiting on a lock. */
async function lockWaiters() {
  const { rows } = await s.p.pool.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`,
  );
  return rows[0]!.n;
}

test("a group with a replayed key, a repeated key, a conflicting body and a refused charge: the others book in one transaction", async () => {
  const club = await makeClub(s.p.db);
  const plugClub = await makeClub(s.p.db, "Plug Club");
  const key = await makeKey(s, { scopes: ["charges:write", "read"] });
  const [a1, a2, a3, a4, plugger] = await Promise.all(Array.from({ length: 5 }, () => memberWith(s, 20_000n)));
  const poor = await memberWith(s, 0n);
  const charge = (member: number, amount = 1_000, organisation = club.clubNumber) => ({
    member,
    amount,
    currency: "aud",
    description: "Table money",
    organisation,
    metadata: { table: "7", a: "first" },
  });
  const post = (body: unknown, k: string) =>
    request(s.base)
      .post("/api/v1/charges")
      .set("Authorization", `Bearer ${key.secret}`)
      .set("Idempotency-Key", k)
      .set("Content-Type", "application/json")
      .send(JSON.stringify(body))
      .then((r) => r); // sent now, not when first awaited

  // A charge answered earlier, replayed from inside the group below.
  const earlierKey = newIdempotencyKey();
  const earlier = await post(charge(a1!.systemNumber, 300), earlierKey);
  expect(earlier.status).toBe(201);
  expect((await post(charge(plugger!.systemNumber, 100, plugClub.clubNumber), newIdempotencyKey())).status).toBe(201); // the plug club's account exists

  // Both group connections busy: two charges to the plug club wait on its account, held here.
  const holder = new pg.Client({ connectionString: s.database.url });
  await holder.connect();
  await holder.query("BEGIN");
  await holder.query("SELECT 1 FROM accounts WHERE organisation_id = $1 FOR UPDATE", [plugClub.id]);
  const plugs = [post(charge(plugger!.systemNumber, 100, plugClub.clubNumber), newIdempotencyKey())];
  await until("the first plug to wait", async () => (await lockWaiters()) >= 1);
  plugs.push(post(charge(plugger!.systemNumber, 100, plugClub.clubNumber), newIdempotencyKey()));
  await until("the second plug to wait", async () => (await lockWaiters()) >= 2);

  // The next group: four plain charges first, then the ones that must leave it.
  const k1 = newIdempotencyKey();
  const k2 = newIdempotencyKey();
  const fresh = [
    post(charge(a1!.systemNumber), k1),
    post(charge(a2!.systemNumber), k2),
    post(charge(a3!.systemNumber), newIdempotencyKey()),
    post(charge(a4!.systemNumber), newIdempotencyKey()),
  ];
  await until("four charges queued", () => group().queued === 4);
  const replayed = post(charge(a1!.systemNumber, 300), earlierKey);
  const repeated = post(charge(a1!.systemNumber), k1);
  const conflicting = post(charge(a2!.systemNumber, 999), k2);
  const refusedKey = newIdempotencyKey();
  const refused = post(charge(poor.systemNumber), refusedKey);
  await until("eight charges queued", () => group().queued === 8);
  const before = { ...group().stats };
  await holder.query("ROLLBACK");
  await holder.end();

  for (const plug of await Promise.all(plugs)) expect(plug.status).toBe(201);
  const booked = await Promise.all(fresh);
  for (const r of booked) {
    expect(r.status).toBe(201);
    expect(r.headers["idempotent-replayed"]).toBeUndefined();
    expect(r.body).toMatchObject({ status: "succeeded", amount: 1_000, organisation: club.clubNumber });
  }
  // The two plugs' groups, then one group: the four booked, the other four sent on alone.
  expect(group().stats.groups - before.groups).toBe(3);
  expect(group().stats.booked - before.booked).toBe(2 + 4);
  expect(group().stats.alone - before.alone).toBe(4);

  const r = await replayed;
  expect([r.status, r.headers["idempotent-replayed"], r.text]).toEqual([201, "true", earlier.text]);
  const again = await repeated;
  expect([again.status, again.headers["idempotent-replayed"], again.text]).toEqual([201, "true", booked[0]!.text]);
  const c = await conflicting;
  expect([c.status, c.body.code]).toEqual([422, "idempotency_conflict"]);
  const no = await refused;
  expect([no.status, no.body.code]).toEqual([402, "insufficient_funds"]);
  const noAgain = await post(charge(poor.systemNumber), refusedKey);
  expect([noAgain.status, noAgain.headers["idempotent-replayed"], noAgain.text]).toEqual([402, "true", no.text]);

  // The four were written by one transaction: their Idempotency-Key records (with the answers sent), charge
  // rows, postings and events.
  const ids = booked.map((b) => Number(String(b.body.id).slice(3)));
  const { rows } = await s.p.pool.query<{ what: string; xid: string; n: number }>(
    `SELECT 'charge' AS what, c.xmin::text AS xid, count(*)::int AS n FROM api_charges c WHERE c.id = ANY($1)
      GROUP BY 2
     UNION ALL
     SELECT 'answer', i.xmin::text, count(*)::int FROM api_idempotency i
       JOIN api_charges c ON c.charge_key = 'api:' || i.api_key_id || ':' || i.idempotency_key
      WHERE c.id = ANY($1) AND i.response_body IS NOT NULL GROUP BY 2
     UNION ALL
     SELECT 'posting', p.xmin::text, count(*)::int FROM postings p JOIN api_charges c ON c.posting_id = p.id
      WHERE c.id = ANY($1) GROUP BY 2
     UNION ALL
     SELECT 'event', e.xmin::text, count(*)::int FROM outbound_events e
      WHERE e.source_key = ANY(SELECT 'charge.succeeded:ch_' || unnest($1::int[])) GROUP BY 2`,
    [ids],
  );
  expect(rows.map((x) => [x.what, x.n])).toEqual([
    ["charge", 4],
    ["answer", 4],
    ["posting", 4],
    ["event", 4],
  ]);
  expect(new Set(rows.map((x) => x.xid)).size).toBe(1);
  // What was stored is what was sent, and what GET answers.
  const stored = await s.p.pool.query<{ response_body: string }>(
    "SELECT response_body FROM api_idempotency WHERE api_key_id = $1 AND idempotency_key = $2",
    [key.id, k1],
  );
  expect(stored.rows[0]!.response_body).toBe(booked[0]!.text);
  const read = await api(s, key.secret).get(`/charges/${booked[0]!.body.id}`);
  expect(read.text).toBe(booked[0]!.text);
  const events = await outboxEvents(s, "charge.succeeded");
  const first = events.find((e) => e.source_key === `charge.succeeded:${booked[0]!.body.id}`)!;
  expect(first.payload).toMatchObject({ charge: { id: booked[0]!.body.id, status: "succeeded" } });
  expect(s.events.filter((e) => ids.some((id) => e.sourceKey === `charge.succeeded:ch_${id}`))).toHaveLength(4);
  for (const e of s.events) expect(e.inTransaction).toBe(true);

  // Each member paid once; the poor member's refusal booked nothing.
  for (const m of [a2!, a3!, a4!]) {
    expect((await s.p.db.account.findUniqueOrThrow({ where: { userId: m.id } })).balanceCents).toBe(19_000n);
  }
  expect((await s.p.db.account.findUniqueOrThrow({ where: { userId: a1!.id } })).balanceCents).toBe(18_700n);
  expect((await s.p.db.account.findUniqueOrThrow({ where: { userId: poor.id } })).balanceCents).toBe(0n);
});

test("with the outbox's own recorder the events go in the group's last query; odd text survives being written in as literals", async () => {
  // startApiStack watches the recorder (one call per event); the app on its own writes them in the group's query.
  const plain = await startCardStack({ maxConnections: 20 });
  try {
    const admin = await makeUser(plain.database.prisma, { level: "EDIT" });
    const club = await makeClub(plain.p.db);
    const { secret } = await createApiKey(
      plain.p.db,
      {
        name: "k",
        organisationId: club.id,
        scopes: ["charges:write"],
        live: false,
      },
      cliActor(),
    );
    const members = await Promise.all(Array.from({ length: 6 }, () => makeUser(plain.p.db)));
    for (const m of members) await fundMember(plain.p, m.id, 10_000n, admin.id);
    const odd = `O'Brien's \\ "fee" {a,b} $1 ; COMMIT; -- ünï 💳`;
    const answers = await Promise.all(
      members.map((m) =>
        request(plain.base)
          .post("/api/v1/charges")
          .set("Authorization", `Bearer ${secret}`)
          .set("Idempotency-Key", `${odd.slice(0, 9)}-${m.id}`)
          .set("Content-Type", "application/json")
          .send(
            JSON.stringify({
              member: m.systemNumber,
              amount: 250,
              currency: "aud",
              description: odd.slice(0, 80),
              reference: odd,
              metadata: { [odd.slice(0, 40)]: odd },
            }),
          )
          .then((r) => r),
      ),
    );
    for (const r of answers) {
      expect(r.status).toBe(201);
      expect(r.body).toMatchObject({
        description: odd.slice(0, 80),
        reference: odd,
        metadata: { [odd.slice(0, 40)]: odd },
      });
    }
    const stats = (plain.app.locals.chargeGroup as ChargeGroupWriter).stats;
    expect(stats.booked).toBe(6);
    const { rows } = await plain.database.pool.query<{ same: boolean; payload: { charge: { description: string } } }>(
      `SELECT e.xmin = c.xmin AS same, e.payload FROM api_charges c
         JOIN outbound_events e ON e.source_key = 'charge.succeeded:ch_' || c.id`,
    );
    expect(rows).toHaveLength(6);
    for (const row of rows) {
      expect(row.same).toBe(true);
      expect(row.payload.charge.description).toBe(odd.slice(0, 80));
    }
    for (const r of answers) {
      const read = await request(plain.app)
        .get(`/api/v1/charges/${r.body.id}`)
        .set("Authorization", `Bearer ${secret}`);
      expect(read.text).toBe(r.text);
    }
    expect(await violations(plain.p)).toEqual([]);
  } finally {
    await plain.p.ledger.close();
    await plain.close();
  }
});

test("a member's balance spent between the group's claim and its booking: the one-query booking refuses, the group is booked the careful way and the charge refused", async () => {
  const club = await makeClub(s.p.db);
  const elsewhere = await makeClub(s.p.db, "Elsewhere Club");
  const key = await makeKey(s, { scopes: ["charges:write", "read"] });
  const spender = await memberWith(s, 5_000n);
  // The member's account held here: the group claims (its balance read says $50 covers $10 and stays above the
  // low-balance threshold), then its booking waits.
  const holder = new pg.Client({ connectionString: s.database.url });
  await holder.connect();
  await holder.query("BEGIN");
  await holder.query("SELECT 1 FROM accounts WHERE user_id = $1 FOR UPDATE", [spender.id]);
  const before = { ...group().stats };
  const charged = api(s, key.secret).post("/charges", {
    member: spender.systemNumber,
    amount: 1_000,
    currency: "aud",
    description: "Table money",
    organisation: club.clubNumber,
  });
  await until("the group's booking to wait", async () => (await lockWaiters()) >= 1);
  // Meanwhile the member spends $45 elsewhere, committed before the group's booking gets the account.
  const spent = await bookInTransaction(holder, {
    idempotencyKey: newIdempotencyKey(),
    type: "Club Payment",
    description: "Elsewhere",
    entries: [
      { userId: spender.id, amountCents: -4_500n, counterparty: 1 },
      { organisationId: elsewhere.id, amountCents: 4_500n, counterparty: 0 },
    ],
  });
  expect(spent.status).toBe("POSTED");
  await holder.query("COMMIT");
  await holder.end();

  const res = await charged;
  expect([res.status, res.body.code]).toEqual([402, "insufficient_funds"]);
  expect(res.body.balance).toBe(500);
  expect(group().stats.booked - before.booked).toBe(0);
  expect(group().stats.alone - before.alone).toBe(1);
  expect((await s.p.db.account.findUniqueOrThrow({ where: { userId: spender.id } })).balanceCents).toBe(500n);
  // Nothing of the rolled-back attempt is left: the one posting is the other payment; the charge is the refusal.
  expect(await s.p.db.posting.count({ where: { idempotencyKey: { startsWith: `api:${key.id}:` } } })).toBe(0);
  const charges = await s.p.db.apiCharge.findMany({ where: { apiKeyId: key.id } });
  expect(charges.map((c) => [c.status, c.postingId])).toEqual([["failed", null]]);
});
