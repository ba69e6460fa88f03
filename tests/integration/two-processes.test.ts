// Two app processes on one database, as two containers (or two cluster workers) would be: each a real `npm start`
// (src/server.ts, production mode) on its own port, sharing nothing but PostgreSQL. A session begun on one is used
// on the other; transfers, Stripe webhooks and settlement confirmations arrive at both at once, forms sent as the
// pages rendered them — duplicates included (a double click landing on two processes, Stripe delivering an event
// twice) — and afterwards every ledger invariant holds and each card payment is booked once.
import { randomUUID } from "node:crypto";
import { freePort } from "../../src/infra/postgres/binaries";
import { type StripeEmulator, signatureHeader, startStripeEmulator } from "../../src/infra/stripe-emulator";
import { createApiKey } from "../../src/services/api/keys";
import { cliActor } from "../../src/services/audit/record";
import { getBalance } from "../../src/services/payments/balances";
import type { Payments } from "../../src/services/payments/context";
import fixtures from "../fixtures/stripe/fixtures3-subset.json";
import { makeClub, makeUser, PASSWORD } from "../helpers/app";
import { checkoutWithCharge } from "../helpers/card-stack";
import { createTestDatabase, type TestDatabase } from "../helpers/db";
import { renderedForm as formById, renderedInputs } from "../helpers/forms";
import { fundMember, fundOrganisation, paymentsOn, violations } from "../helpers/payments";
import { renderedForm } from "../helpers/rendered-form";
import { setDirectEntry } from "../helpers/settlement";
import { type SpawnedServer, spawnServer } from "../helpers/spawned-server";
import { TEST_ENCRYPTION_KEY } from "../helpers/two-factor";
import { WebClient } from "../helpers/web-client";

let db: TestDatabase;
let emulator: StripeEmulator;
let p: Payments;
const servers: SpawnedServer[] = [];
let bases: [string, string];
const API_LIMIT = 12;

async function startApp(): Promise<string> {
  const port = await freePort();
  const server = await spawnServer({
    NODE_ENV: "production",
    DATABASE_URL: db.url,
    MIGRATE_ON_START: "false",
    DEMO_DATA: "false",
    SESSION_SECRET: "two-processes-test-session-secret-0123456789",
    APP_ENCRYPTION_KEY: TEST_ENCRYPTION_KEY, // the key makeUser enrolled staff with
    // Both processes take the test's emulator as "Stripe": same keys, same webhook signing secret.
    STRIPE_SECRET_KEY: emulator.secretKey,
    STRIPE_PUBLISHABLE_KEY: emulator.publishableKey,
    STRIPE_WEBHOOK_SECRET: emulator.webhookSecret,
    HOST: "127.0.0.1",
    PORT: String(port),
    LOG_LEVEL: "info", // the helper waits for the "serving on" line
    WEB_CONCURRENCY: "1",
    API_RATE_LIMIT_PER_MINUTE: String(API_LIMIT),
  });
  servers.push(server);
  return `http://127.0.0.1:${port}`;
}

beforeAll(async () => {
  db = await createTestDatabase();
  emulator = await startStripeEmulator();
  ({ p } = paymentsOn(db, emulator));
  const [a, b] = await Promise.all([startApp(), startApp()]);
  bases = [a, b];
}, 120_000);

afterAll(async () => {
  await Promise.all(servers.map((s) => s.stop("SIGTERM")));
  await p?.ledger.close();
  await emulator?.close();
  await db?.drop();
});

afterEach(async () => {
  expect(await violations(p)).toEqual([]);
  for (const s of servers) expect(s.alive()).toBe(true);
});

const other = (i: number) => bases[(i + 1) % 2]!;
const cents = (credits: string) => BigInt(Math.round(Number(credits) * 100));

test("a session and its CSRF token from one process are good on the other", async () => {
  const m = await makeUser(p.db, { firstName: "Roaming" });
  const browser = new WebClient();
  await browser.signIn(bases[0], m.email, PASSWORD);
  const dashboard = await browser.get(`${bases[1]}/dashboard`);
  expect(dashboard.status).toBe(200);
  expect(dashboard.text).toContain("Roaming");
  // A form rendered by one process, sent to the other: accepted (a bad token would be 403).
  const page = await browser.get(`${bases[0]}/change-password`);
  const form = {
    ...renderedForm(page.text, "/change-password"),
    currentPassword: "wrong-password",
    newPassword: "another-password-1",
    confirmPassword: "another-password-1",
  };
  const sent = await browser.post(`${bases[1]}/change-password`, form);
  expect(sent.status).toBe(400);
  expect(sent.text).toContain("current password");
  expect((await browser.post(`${bases[1]}/change-password`, { ...form, _csrf: "forged" })).status).toBe(403);
});

test("failed sign-ins are counted across both processes: the sixth, wherever it lands, is refused", async () => {
  const m = await makeUser(p.db);
  const attempt = async (base: string) => {
    const browser = new WebClient();
    const page = await browser.get(`${base}/login`);
    const form = { ...renderedForm(page.text, "/login"), identifier: m.email, password: "not-the-password" };
    return (await browser.post(`${base}/login`, form)).status;
  };
  // Five failures (LOGIN_MAX_FAILURES' default), spread over the two processes: three on one, two on the other.
  for (let i = 0; i < 5; i++) expect(await attempt(bases[i % 2]!)).toBe(401);
  // Per-process counters would let the second process allow three more.
  expect(await attempt(bases[1])).toBe(429);
  expect(await attempt(bases[0])).toBe(429);
});

test("the API's per-key rate limit holds across both processes", async () => {
  const club = await makeClub(p.db);
  const { secret } = await createApiKey(
    p.db,
    { name: "k", organisationId: club.id, scopes: ["read"], live: false },
    cliActor(),
  );
  const call = (base: string) =>
    fetch(`${base}/api/v1/charges`, { headers: { Authorization: `Bearer ${secret}` } }).then((r) => r.status);
  const statuses = await Promise.all(Array.from({ length: API_LIMIT }, (_, i) => call(bases[i % 2]!)));
  expect(statuses).toEqual(Array(API_LIMIT).fill(200));
  expect(await call(bases[0])).toBe(429);
  expect(await call(bases[1])).toBe(429);
});

test("concurrent transfers through both processes, each form sent to both at once, book once each", async () => {
  const finance = await makeUser(p.db, { level: "EDIT" });
  const members = await Promise.all(Array.from({ length: 8 }, () => makeUser(p.db, { firstName: "Ring" })));
  for (const m of members) await fundMember(p, m.id, 10_000n, finance.id);
  const browsers = await Promise.all(
    members.map(async (m, i) => {
      const b = new WebClient();
      await b.signIn(bases[i % 2]!, m.email, PASSWORD);
      return b;
    }),
  );
  const before = await p.db.posting.count({ where: { type: "Member Transfer" } });
  const expected = new Map(members.map((m) => [m.id, 10_000n]));
  const sends: Promise<unknown>[] = [];
  for (let round = 0; round < 4; round++) {
    for (const [i, m] of members.entries()) {
      const to = members[(i + 1 + round) % members.length]!;
      const amount = `${1 + ((i + round) % 5)}.${String(10 + i).padStart(2, "0")}`;
      expected.set(m.id, expected.get(m.id)! - cents(amount));
      expected.set(to.id, expected.get(to.id)! + cents(amount));
      sends.push(
        (async () => {
          const served = (i + round) % 2;
          const page = await browsers[i]!.get(`${bases[served]}/payments/member-transfer`);
          // As a member without JavaScript fills it in: the ABF number, the amount, what it is for.
          const form = {
            ...renderedForm(page.text, "/payments/member-transfer"),
            abf: String(to.systemNumber),
            amount,
            description: `Round ${round}`,
          };
          // A double click whose two requests land on different processes.
          const answers = await Promise.all([
            browsers[i]!.post(`${bases[served]}/payments/member-transfer`, form),
            browsers[i]!.post(`${other(served)}/payments/member-transfer`, form),
          ]);
          for (const a of answers) expect(a.status).toBe(302);
        })(),
      );
    }
  }
  await Promise.all(sends);
  expect(await p.db.posting.count({ where: { type: "Member Transfer" } })).toBe(before + 32);
  for (const m of members) expect(await getBalance(p, m.id)).toBe(expected.get(m.id));
});

test("Stripe webhooks, each delivered to both processes at once and once more under another event id, book each card payment once", async () => {
  const payments = await Promise.all(
    Array.from({ length: 6 }, async (_, i) => {
      const amountCents = BigInt(2_000 + i * 500);
      return { ...(await checkoutWithCharge({ p }, amountCents)), amountCents };
    }),
  );
  const deliver = (base: string, eventId: string, charge: object) => {
    const body = JSON.stringify({
      ...fixtures.resources.event,
      id: eventId,
      type: "charge.succeeded",
      data: { object: charge },
    });
    return fetch(`${base}/payments/stripe-webhook`, {
      method: "POST",
      headers: {
        "Content-Type": "application/json",
        "Stripe-Signature": signatureHeader(body, emulator.webhookSecret),
      },
      body,
    });
  };
  const answers = await Promise.all(
    payments.flatMap(({ charge }) => {
      const eventId = `evt_${randomUUID().replaceAll("-", "")}`;
      return [
        deliver(bases[0], eventId, charge),
        deliver(bases[1], eventId, charge),
        deliver(bases[1], `evt_${randomUUID().replaceAll("-", "")}`, charge),
      ];
    }),
  );
  for (const a of answers) expect(a.status).toBe(200);
  for (const { m, card, amountCents } of payments) {
    expect(await p.db.posting.count({ where: { cardPaymentId: card.id } })).toBe(1);
    expect((await p.db.cardPayment.findUniqueOrThrow({ where: { id: card.id } })).status).toBe("SUCCEEDED");
    expect(await getBalance(p, m.id)).toBe(amountCents);
  }
});

test("settlement confirmations sent to both processes at once settle each club once", async () => {
  const finance = await makeUser(p.db, { level: "EDIT" });
  await setDirectEntry(p.db);
  const clubs = await Promise.all(
    [30_000n, 45_000n, 60_000n].map(async (amount, i) => {
      const c = await makeClub(p.db, `Settle ${i}`);
      await p.db.organisation.update({
        where: { id: c.id },
        data: { bankBsb: "062000", bankAccount: "11112222", minBalanceAfterSettlementCents: 10_000n },
      });
      await fundOrganisation(p, c.id, amount, finance.id);
      return c;
    }),
  );
  const browser = new WebClient();
  await browser.signIn(bases[0], finance.email, PASSWORD);
  const today = new Intl.DateTimeFormat("en-CA", { timeZone: "Australia/Sydney" }).format(new Date());
  // Two finance tabs, one page from each process, both ticking every club; each form also sent twice.
  const forms = await Promise.all(
    bases.map(async (base) => {
      const html = (await browser.get(`${base}/payments/settlement?reference_date=${today}`)).text;
      const form = formById(html, "settlement-form");
      for (const c of clubs) {
        const box = renderedInputs(html, "settlement-form").find((i) => i.name === `org_${c.id}`);
        expect(box?.disabled).toBe(false);
        form[`org_${c.id}`] = "on";
      }
      return { ...form, action: "confirm" };
    }),
  );
  const answers = await Promise.all(
    forms.flatMap((f) => bases.map((base) => browser.post(`${base}/payments/settlement`, f))),
  );
  // One batch per form at most, every answer a redirect to a batch or the page saying why not.
  expect(answers.every((a) => a.status === 302 || a.status === 400)).toBe(true);
  for (const c of clubs) {
    expect(await p.db.settlement.count({ where: { organisationId: c.id } })).toBe(1);
    expect((await p.db.account.findUniqueOrThrow({ where: { organisationId: c.id } })).balanceCents).toBe(10_000n);
  }
  const batches = new Set(answers.filter((a) => a.status === 302).map((a) => a.location));
  expect(batches.size).toBe(1);
});

test("both processes ran side by side (each with its outbound webhook worker) without an error logged", () => {
  for (const s of servers) expect(s.output()).not.toMatch(/"level":(50|60)/);
});
