// Outbound webhooks end to end on a real PostgreSQL, through real pg-boss and real HTTP: events recorded in a
// transaction are dispatched, signed, retried after a 500, a timeout and a dropped connection, and delivered to a
// receiver that was down for the whole first phase, with the same event id on every attempt.

import net from "node:net";
import { createLogger } from "../../src/lib/logger";
import { cliActor } from "../../src/services/audit/record";
import { inTransaction } from "../../src/services/ledger/transaction";
import { requestResend } from "../../src/services/webhooks-out/deliveries";
import { createEndpoint } from "../../src/services/webhooks-out/endpoints";
import { postEvent } from "../../src/services/webhooks-out/post-event";
import { recordOutboundEvent } from "../../src/services/webhooks-out/record-event";
import { signatureHeader, verifySignature } from "../../src/services/webhooks-out/signature";
import { startWebhookWorker, type WebhookWorker } from "../../src/services/webhooks-out/worker";
import { makeUser } from "../helpers/app";
import { createTestDatabase, type TestDatabase } from "../helpers/db";
import { type Receiver, startReceiver, waitFor } from "../helpers/webhook-receiver";

let database: TestDatabase;
let worker: WebhookWorker;
let actor: { userId: number; permissions: { global: "EDIT"; orgs: Map<number, "EDIT"> } };
const policy = { production: false, allowPrivate: true };
const receivers: Receiver[] = [];

beforeAll(async () => {
  database = await createTestDatabase();
  const finance = await makeUser(database.prisma, { level: "EDIT" });
  actor = { userId: finance.id, permissions: { global: "EDIT", orgs: new Map() } };
  worker = await startWebhookWorker({
    connectionString: database.url,
    pool: database.pool,
    logger: createLogger("silent"),
    allowPrivate: true,
    // Short, fixed retry delays keep the test quick; the 3-day backoff is checked in the unit tests.
    schedule: { retryLimit: 6, retryDelay: 1, retryBackoff: false },
    timeoutMs: 1_000,
    dispatchIntervalMs: 200,
    pollingIntervalSeconds: 0.5,
  });
});
afterAll(async () => {
  await worker?.stop();
  for (const r of receivers) await r.close();
  await database?.drop();
});

async function emit(organisationId: number | null, n: number) {
  return inTransaction(database.pool, async (client) => {
    const ids: string[] = [];
    for (let i = 0; i < n; i++) {
      const e = await recordOutboundEvent(client, {
        organisationId,
        type: "charge.succeeded",
        data: { amount: 1234n + BigInt(i), currency: "aud", member: 620001 },
      });
      ids.push(e.id);
    }
    return ids;
  });
}

/** A receiver on 127.0.0.1 and a federation-wide endpoint for it; the receiver checks the endpoint's secret. */
async function receiverWithEndpoint(plan?: Parameters<typeof startReceiver>[1]) {
  let secret = "";
  const receiver = await startReceiver(() => secret, plan);
  receivers.push(receiver);
  const endpoint = await createEndpoint(
    database.prisma,
    actor,
    { organisationId: null, url: receiver.url, eventTypes: ["charge.succeeded"] },
    policy,
    cliActor(),
  );
  secret = endpoint.secret;
  return { receiver, endpoint };
}

const deliveriesOf = (endpointId: number) =>
  database.prisma.webhookDelivery.findMany({ where: { endpointId }, include: { event: true } });

test("a receiver that fails with a 500, a timeout and a dropped connection gets the event on the 4th attempt", async () => {
  const plan = ["500", "hang", "drop"] as const;
  const { receiver, endpoint } = await receiverWithEndpoint((n) => plan[n] ?? "ok");

  const [eventId] = await emit(null, 1);
  await waitFor(() => receiver.delivered().length === 1, 30_000, "the event to be delivered");

  expect(receiver.received.map((r) => r.answered)).toEqual(["500", "hang", "drop", "ok"]);
  expect(receiver.received.every((r) => r.signatureValid)).toBe(true);
  expect(new Set(receiver.received.map((r) => r.eventId))).toEqual(new Set([eventId]));
  // Every attempt carries the same body: {id, type, created, data}.
  expect(new Set(receiver.received.map((r) => r.body)).size).toBe(1);
  const body = JSON.parse(receiver.received[0]!.body);
  expect(body).toEqual({
    id: eventId,
    type: "charge.succeeded",
    created: expect.any(Number),
    data: { amount: 1234, currency: "aud", member: 620001 },
  });

  await waitFor(async () => (await deliveriesOf(endpoint.id))[0]?.status === "succeeded", 5_000, "the row");
  const [row] = await deliveriesOf(endpoint.id);
  expect(row).toMatchObject({ status: "succeeded", attempts: 4, lastResponseCode: 200, lastError: null });
  expect(row!.deliveredAt).toBeInstanceOf(Date);
  // Nothing more arrives: delivered means done.
  await new Promise((r) => setTimeout(r, 1_500));
  expect(receiver.received).toHaveLength(4);
});

test("a receiver that is down for the whole first phase loses nothing once it is back", async () => {
  // A port nothing listens on (yet).
  const port = await new Promise<number>((resolve) => {
    const s = net.createServer().listen(0, "127.0.0.1", () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
  const endpoint = await createEndpoint(
    database.prisma,
    actor,
    { organisationId: null, url: `http://127.0.0.1:${port}/down`, eventTypes: ["charge.succeeded"] },
    policy,
    cliActor(),
  );
  const ids = [...(await emit(null, 4)), ...(await emit(null, 3))];

  // Every delivery has been tried and refused at least once while the receiver is down.
  await waitFor(
    async () => {
      const rows = await deliveriesOf(endpoint.id);
      return rows.length === ids.length && rows.every((r) => r.attempts >= 1 && r.status === "pending");
    },
    20_000,
    "first failed attempts",
  );
  const refused = await deliveriesOf(endpoint.id);
  expect(refused.every((r) => r.lastResponseCode === null && /ECONNREFUSED/.test(r.lastError ?? ""))).toBe(true);

  const receiver = await startReceiver(
    () => endpoint.secret,
    () => "ok",
    port,
  );
  receivers.push(receiver);
  await waitFor(
    async () => (await deliveriesOf(endpoint.id)).every((r) => r.status === "succeeded"),
    30_000,
    "every delivery to succeed",
  );
  const got = receiver.delivered().map((r) => r.eventId);
  // Each event at least once (the receiver dedupes by id), and nothing it did not ask for.
  expect(new Set(got)).toEqual(new Set(ids));
  expect(got.length).toBeGreaterThanOrEqual(ids.length);
});

test("a re-send from the page delivers the same event again, with the same id", async () => {
  const { receiver, endpoint } = await receiverWithEndpoint();
  const [eventId] = await emit(null, 1);
  await waitFor(async () => (await deliveriesOf(endpoint.id))[0]?.status === "succeeded", 15_000, "delivery");
  const [row] = await deliveriesOf(endpoint.id);
  await requestResend(database.prisma, actor, row!.id, { actorId: actor.userId });
  await waitFor(() => receiver.delivered().length === 2, 15_000, "the re-send");
  expect(receiver.delivered().map((r) => r.eventId)).toEqual([eventId, eventId]);
  await waitFor(async () => (await deliveriesOf(endpoint.id))[0]?.attempts === 2, 5_000, "the row");
  expect((await deliveriesOf(endpoint.id))[0]).toMatchObject({ status: "succeeded", resendRequestedAt: null });
});

test("at delivery time a host resolving to a private address is refused unless allowed (DNS rebinding)", async () => {
  const receiver = await startReceiver(() => "whsec_x");
  receivers.push(receiver);
  const attempt = (url: string, allowPrivate: boolean) =>
    postEvent({ url, secret: "whsec_x", eventId: "evt_x", body: "{}", timeoutMs: 2_000, allowPrivate });
  // "localhost" resolves to loopback: the check runs on the lookup the connection uses.
  const byName = await attempt(`http://localhost:${receiver.port}/hooks`, false);
  expect(byName).toMatchObject({ ok: false, status: null });
  expect(byName.error).toMatch(/private, loopback or link-local/);
  const literal = await attempt(receiver.url, false);
  expect(literal.error).toMatch(/private address/);
  expect(receiver.received).toHaveLength(0);
  expect((await attempt(receiver.url, true)).ok).toBe(true);
  expect(receiver.received).toHaveLength(1);
});

test("the queue's connections survive being cut (as in a database restart) and delivery carries on", async () => {
  const { receiver } = await receiverWithEndpoint();
  const { rows } = await database.pool.query<{ n: number }>(
    `SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity
      WHERE application_name = 'bridge-webhooks' AND datname = current_database()`,
  );
  expect(rows[0]!.n).toBeGreaterThan(0);
  const [eventId] = await emit(null, 1);
  await waitFor(() => receiver.delivered().length === 1, 20_000, "delivery after the cut");
  expect(receiver.delivered()[0]!.eventId).toBe(eventId);
});

test("a tampered body or a wrong secret does not verify", async () => {
  const body = JSON.stringify({ id: "evt_1", type: "iou.paid", created: 1, data: { amount: 500 } });
  const header = signatureHeader("whsec_abc", body);
  expect(verifySignature("whsec_abc", body, header)).toBe(true);
  expect(verifySignature("whsec_abc", body.replace("500", "5000"), header)).toBe(false);
  expect(verifySignature("whsec_other", body, header)).toBe(false);
  expect(verifySignature("whsec_abc", body, signatureHeader("whsec_abc", body, 1_000))).toBe(false); // stale
});
