// Property test: random sequences of payments, transfers, club payouts, adjustments, IOU payments, top-ups and
// replays over a handful of accounts. After every step every ledger invariant holds, and an operation that was
// refused changed nothing at all.
import fc from "fast-check";
import { AppError } from "../../src/lib/errors";
import { autoTopUpMember } from "../../src/services/payments/auto-topup-member";
import { createIou, payIou } from "../../src/services/payments/ious";
import { adjustMemberBalance } from "../../src/services/payments/manual-adjustment";
import { memberTransfer } from "../../src/services/payments/member-transfer";
import { orgToMemberTransfer } from "../../src/services/payments/org-to-member-transfer";
import { paymentApiBatch } from "../../src/services/payments/payment-api-batch";
import { quickClub, quickMember } from "../helpers/fast-people";
import { CARDS, ledgerSnapshot, saveCard, startPayments, type TestPayments, violations } from "../helpers/payments";

let t: TestPayments;
beforeAll(async () => {
  t = await startPayments();
});
afterAll(() => t.close());

const cents = fc.bigInt({ min: 1n, max: 30_000n });
const who = fc.integer({ min: 0, max: 2 });
const club = fc.integer({ min: 0, max: 1 });

const op = fc.oneof(
  fc.record({ kind: fc.constant("pay" as const), m: who, c: club, amount: cents }),
  fc.record({ kind: fc.constant("transfer" as const), m: who, to: who, amount: cents }),
  fc.record({ kind: fc.constant("payout" as const), c: club, to: who, amount: cents }),
  fc.record({ kind: fc.constant("adjust" as const), m: who, amount: fc.bigInt({ min: -20_000n, max: 20_000n }) }),
  fc.record({ kind: fc.constant("iou" as const), m: who, c: club, amount: cents }),
  fc.record({ kind: fc.constant("topup" as const), m: who, amount: cents, decline: fc.boolean() }),
  fc.record({ kind: fc.constant("replay" as const), back: fc.nat(20) }),
);
type Op = typeof op extends fc.Arbitrary<infer T> ? T : never;

const snapshot = () => ledgerSnapshot(t.p);

test("ledger invariants hold after every step of random operation sequences", async () => {
  const admin = await quickMember(t.p.db);
  let run = 0;
  await fc.assert(
    fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 20 }), async (ops) => {
      run += 1;
      const members = [await quickMember(t.p.db), await quickMember(t.p.db), await quickMember(t.p.db)];
      await saveCard(t, members[0]!.id, CARDS.ok, 5_000n);
      const clubs = [await quickClub(t.p.db), await quickClub(t.p.db)];
      const done: (() => Promise<unknown>)[] = [];
      for (const [i, o] of ops.entries()) {
        const k = `prop-${process.pid}-${run}-${i}`;
        const action = build(o, k, members, clubs, admin.id, done);
        const before = await snapshot();
        let outcome: "ok" | "refused";
        try {
          const r = (await action()) as { ok?: boolean } | undefined;
          outcome = r && r.ok === false ? "refused" : "ok";
        } catch (e) {
          if (!(e instanceof AppError)) throw e;
          outcome = "refused";
        }
        if (outcome === "refused") expect(await snapshot()).toBe(before);
        else done.push(action);
        // Unpaid IOUs are a legitimate outcome but not the ledger's business: clear them between steps.
        await t.p.db.iou.deleteMany({});
        expect(await violations(t.p)).toEqual([]);
      }
    }),
    { numRuns: 25 },
  );
});

function build(
  o: Op,
  k: string,
  members: { id: number; systemNumber: number }[],
  clubs: { id: number }[],
  adminId: number,
  done: (() => Promise<unknown>)[],
): () => Promise<unknown> {
  const p = t.p;
  switch (o.kind) {
    case "pay":
      return () =>
        paymentApiBatch(p, {
          memberId: members[o.m]!.id,
          organisationId: clubs[o.c]!.id,
          amountCents: o.amount,
          description: "Club fee",
          type: "Club Payment",
          idempotencyKey: k,
        });
    case "transfer":
      return () =>
        memberTransfer(p, {
          fromUserId: members[o.m]!.id,
          toUserId: members[o.to]!.id,
          amountCents: o.amount,
          description: "Share",
          idempotencyKey: k,
        });
    case "payout":
      return () =>
        orgToMemberTransfer(p, {
          organisationId: clubs[o.c]!.id,
          toUserId: members[o.to]!.id,
          amountCents: o.amount,
          description: "Prize",
          actorUserId: adminId,
          idempotencyKey: k,
        });
    case "adjust":
      return () =>
        adjustMemberBalance(p, {
          userId: members[o.m]!.id,
          amountCents: o.amount,
          description: "Correction",
          actorUserId: adminId,
          idempotencyKey: k,
        });
    case "iou": {
      let iouId: number | null = null; // a replay pays the same IOU again
      return async () => {
        if (iouId === null) {
          const iou = await createIou(p, {
            systemNumber: members[o.m]!.systemNumber,
            organisationId: clubs[o.c]!.id,
            amountCents: o.amount,
            description: "Session IOU",
          });
          iouId = iou.id;
        }
        return payIou(p, { iouId, payerUserId: members[o.m]!.id });
      };
    }
    case "topup":
      return async () => {
        // Only member 0 has auto top-up; a declining card is saved as their default before the charge.
        if (o.m === 0) await saveCard(t, members[0]!.id, o.decline ? CARDS.declinesWhenCharged : CARDS.ok, null);
        return autoTopUpMember(p, { userId: members[o.m]!.id, amountCents: o.amount, idempotencyKey: k }).finally(() =>
          p.db.user.update({ where: { id: members[0]!.id }, data: { autoTopUpStatus: "ON" } }),
        );
      };
    case "replay": {
      const again = done[done.length - 1 - (o.back % Math.max(done.length, 1))];
      // Replaying a booked operation must book nothing: it is "refused" in the sense of changing nothing.
      return again
        ? async () => {
            await again();
            return { ok: false };
          }
        : async () => ({ ok: false });
    }
  }
}
