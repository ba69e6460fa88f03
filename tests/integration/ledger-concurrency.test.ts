// Many app processes' worth of database connections paying, transferring and topping up on a few shared
// accounts, including one hot club. The final state must equal the sum of what each caller was told succeeded;
// no balance may go negative; no caller may see a deadlock or any other error.

import { connectDatabase } from "../../src/db/client";
import { autoTopUpMember } from "../../src/services/payments/auto-topup-member";
import type { Payments } from "../../src/services/payments/context";
import { memberTransfer } from "../../src/services/payments/member-transfer";
import { paymentApiBatch } from "../../src/services/payments/payment-api-batch";
import { quickClub, quickMember } from "../helpers/fast-people";
import {
  CARDS,
  fundMember,
  paymentsOn,
  saveCard,
  startPayments,
  type TestPayments,
  violations,
} from "../helpers/payments";

let t: TestPayments;
beforeAll(async () => {
  t = await startPayments();
});
afterAll(() => t.close());

const PROCESSES = 6; // each with its own pool and posting engine, as separate app processes would have
const OPS_PER_WORKER = 60;
const WORKERS_PER_PROCESS = 4;
// About 30 s alone on two cores; a busy shared machine has taken it past jest's default 60 s.
jest.setTimeout(180_000);

test("parallel payments, transfers and top-ups end exactly where the serial sum says", async () => {
  const admin = await quickMember(t.p.db);
  const members = await Promise.all(Array.from({ length: 6 }, () => quickMember(t.p.db)));
  for (const m of members.slice(0, 3)) await saveCard(t, m.id, CARDS.ok, 5_000n);
  const hot = await quickClub(t.p.db);
  const other = await quickClub(t.p.db);
  for (const m of members) await fundMember(t.p, m.id, 20_000n, admin.id);

  const processes: { p: Payments; close: () => Promise<void> }[] = [];
  for (let i = 0; i < PROCESSES; i++) {
    const database = connectDatabase(t.database.url, { max: 4 });
    processes.push({ p: paymentsOn(database, t.emulator).p, close: database.close });
  }

  // What callers were told: member and club deltas from successful payments and transfers.
  const delta = new Map<string, bigint>();
  const add = (k: string, v: bigint) => delta.set(k, (delta.get(k) ?? 0n) + v);
  const errors: unknown[] = [];
  let seq = 0;

  const worker = async (p: Payments, w: number) => {
    for (let i = 0; i < OPS_PER_WORKER; i++) {
      const m = members[(w * 7 + i) % members.length]!;
      const amount = BigInt(100 + ((w * 31 + i * 17) % 4_900));
      const k = `conc-${w}-${i}-${++seq}`;
      try {
        const roll = (w + i) % 10;
        if (roll < 6) {
          const club = roll < 5 ? hot : other;
          const r = await paymentApiBatch(p, {
            memberId: m.id,
            organisationId: club.id,
            amountCents: amount,
            description: "Session",
            type: "Club Payment",
            idempotencyKey: k,
          });
          if (r.ok) {
            add(`m${m.id}`, -amount);
            add(`c${club.id}`, amount);
          }
        } else if (roll < 9) {
          const to = members[(w + i + 1) % members.length]!;
          if (to.id === m.id) continue;
          const r = await memberTransfer(p, {
            fromUserId: m.id,
            toUserId: to.id,
            amountCents: amount,
            description: "Share",
            idempotencyKey: k,
          });
          if (r.ok) {
            add(`m${m.id}`, -amount);
            add(`m${to.id}`, amount);
          }
        } else {
          await autoTopUpMember(p, { userId: m.id, amountCents: amount, idempotencyKey: k });
        }
        // Every fourth operation is also retried at once, as a client whose response was lost would.
        if (i % 4 === 0) {
          const retry = () =>
            paymentApiBatch(p, {
              memberId: m.id,
              organisationId: hot.id,
              amountCents: amount,
              description: "Session",
              type: "Club Payment",
              idempotencyKey: `${k}-retry`,
            });
          const again = await retry();
          const replay = await retry();
          if (again.ok) expect(replay).toMatchObject({ ok: true, replayed: true, postingId: again.postingId });
          // A refused first try books nothing, so the retry may succeed on its own (money may have arrived).
          if (again.ok || replay.ok) {
            add(`m${m.id}`, -amount);
            add(`c${hot.id}`, amount);
          }
        }
      } catch (e) {
        errors.push(e);
      }
    }
  };

  await Promise.all(
    processes.flatMap(({ p }, pi) => Array.from({ length: WORKERS_PER_PROCESS }, (_, wi) => worker(p, pi * 10 + wi))),
  );
  await Promise.all(processes.map((x) => x.close()));

  expect(errors).toEqual([]);
  expect(await violations(t.p)).toEqual([]);

  // Top-ups (explicit and automatic) are read back from the ledger, and each card charge is booked exactly once.
  const cards = await t.p.db.cardPayment.findMany({ where: { status: "SUCCEEDED" }, include: { postings: true } });
  for (const c of cards) expect(c.postings).toHaveLength(1);
  for (const m of members) {
    const acct = await t.p.accounts.forUser(m.id);
    const topUps = await t.p.db.entry.aggregate({
      where: { accountId: acct, type: { in: ["Auto Top Up", "Manual Top Up"] } },
      _sum: { amountCents: true },
    });
    const cardTotal = cards.filter((c) => c.userId === m.id).reduce((s, c) => s + c.amountCents, 0n);
    expect(topUps._sum.amountCents ?? 0n).toBe(cardTotal);
    const balance = (await t.p.db.account.findUniqueOrThrow({ where: { id: acct } })).balanceCents;
    expect(balance).toBeGreaterThanOrEqual(0n);
    expect(balance).toBe(20_000n + (delta.get(`m${m.id}`) ?? 0n) + (topUps._sum.amountCents ?? 0n));
  }
  for (const c of [hot, other]) {
    const acct = await t.p.accounts.forOrganisation(c.id);
    const balance = (await t.p.db.account.findUniqueOrThrow({ where: { id: acct } })).balanceCents;
    expect(balance).toBe(delta.get(`c${c.id}`) ?? 0n);
  }
  // The hot club really was hot.
  expect((await t.p.db.account.findUniqueOrThrow({ where: { organisationId: hot.id } })).entryCount).toBeGreaterThan(
    200,
  );
});
