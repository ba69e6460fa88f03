// The payments core's rules, branch by branch.
import { AppError } from "../../src/lib/errors";
import { parseAmount } from "../../src/lib/money";
import {
  getBalance,
  getBalanceDetail,
  orgBalance,
  orgBalanceAt,
  orgBalanceWithRecent,
} from "../../src/services/payments/balances";
import { createIou, listIousForMember, payIou } from "../../src/services/payments/ious";
import { adjustMemberBalance } from "../../src/services/payments/manual-adjustment";
import { memberTransfer } from "../../src/services/payments/member-transfer";
import { orgToMemberTransfer } from "../../src/services/payments/org-to-member-transfer";
import { paymentApiBatch } from "../../src/services/payments/payment-api-batch";
import type { PaymentEventMap } from "../../src/services/payments/payment-events";
import { getPaymentsStatistics, paymentsStatusSummary } from "../../src/services/payments/statistics";
import { makeClub, makeUser } from "../helpers/app";
import {
  CARDS,
  fundMember,
  fundOrganisation,
  key,
  saveCard,
  savedCardCharges,
  startPayments,
  type TestPayments,
  violations,
} from "../helpers/payments";

const $ = (s: string) => parseAmount(s);

let t: TestPayments;
let admin: { id: number };
let club: { id: number };
beforeAll(async () => {
  t = await startPayments();
  admin = await makeUser(t.p.db, { level: "EDIT" });
  club = await makeClub(t.p.db);
  await t.p.db.organisation.create({
    data: { clubNumber: "ABF", name: "Australian Bridge Federation", type: "NATIONAL" },
  });
});
afterAll(() => t.close());
afterEach(async () => expect(await violations(t.p)).toEqual([]));

async function member(balance: string, auto?: { amount: string; card?: string }) {
  const u = await makeUser(t.p.db);
  if (balance !== "0") await fundMember(t.p, u.id, $(balance), admin.id);
  if (auto) await saveCard(t, u.id, auto.card ?? CARDS.ok, $(auto.amount));
  return u;
}

function collect<K extends keyof PaymentEventMap>(name: K) {
  const seen: PaymentEventMap[K][] = [];
  const off = t.p.events.on(name, (e) => seen.push(e));
  return { seen, off };
}

const pay = (memberId: number, amount: string, extra: Record<string, unknown> = {}) =>
  paymentApiBatch(t.p, {
    memberId,
    organisationId: club.id,
    amountCents: $(amount),
    description: "Session fee",
    type: "Club Payment",
    idempotencyKey: key(),
    ...extra,
  });

describe("paymentApiBatch", () => {
  test("keeps the club session and event ids on the posting (so on both sides)", async () => {
    const m = await member("100");
    const r = await pay(m.id, "10", { clubSessionId: 77, eventId: 88 });
    expect(r.ok).toBe(true);
    const postingId = (r as { postingId: bigint }).postingId;
    const posting = await t.p.db.posting.findUniqueOrThrow({ where: { id: postingId } });
    expect(posting).toMatchObject({ clubSessionId: 77, eventId: 88, type: "Club Payment" });
    expect(await t.p.db.entry.count({ where: { postingId } })).toBe(2);
  });

  test("a balance falling under $20 without auto top-up raises the low-balance event", async () => {
    const m = await member("30");
    const low = collect("lowBalance");
    await pay(m.id, "10.01");
    low.off();
    expect(low.seen).toEqual([{ userId: m.id, balanceCents: $("19.99") }]);
    const none = collect("lowBalance");
    const m2 = await member("30");
    await pay(m2.id, "10");
    none.off();
    expect(none.seen).toEqual([]); // exactly $20 left is not "under"
  });

  test("with auto top-up on, falling under $20 tops up by the member's amount", async () => {
    const m = await member("30", { amount: "50" });
    await pay(m.id, "25");
    expect(await getBalance(t.p, m.id)).toBe($("55"));
    expect(savedCardCharges(t.emulator, m.id).map((pi) => pi.amount)).toEqual([5000]);
  });

  test("insufficient with auto top-up: tops up by the §3.3.3 amount, then pays", async () => {
    const m = await member("10", { amount: "100" });
    const r = await pay(m.id, "95");
    expect(r).toMatchObject({ ok: true, topUpCents: $("200") });
    expect(await getBalance(t.p, m.id)).toBe($("115"));
  });

  test("a hard decline switches auto top-up off and refuses the payment", async () => {
    const m = await member("5", { amount: "50", card: CARDS.declinesWhenCharged });
    const failed = collect("autoTopUpFailed");
    const r = await pay(m.id, "40");
    failed.off();
    expect(r).toMatchObject({ ok: false, reason: "TOP_UP_FAILED" });
    expect((r as { message: string }).message).toContain("Auto Top Up has been disabled");
    expect((await t.p.db.user.findUniqueOrThrow({ where: { id: m.id } })).autoTopUpStatus).toBe("FAILED");
    expect(failed.seen).toHaveLength(1);
    expect(await getBalance(t.p, m.id)).toBe($("5"));
  });

  test("a soft decline (authentication needed) keeps auto top-up on and asks the member", async () => {
    const m = await member("5", { amount: "50", card: CARDS.authentication });
    const asked = collect("autoTopUpNeedsAuthentication");
    const r = await pay(m.id, "40");
    asked.off();
    expect(r).toMatchObject({ ok: false, reason: "TOP_UP_FAILED" });
    expect((await t.p.db.user.findUniqueOrThrow({ where: { id: m.id } })).autoTopUpStatus).toBe("ON");
    expect(asked.seen).toHaveLength(1);
  });

  test("a retried call with the same key books nothing and charges nothing more", async () => {
    const m = await member("10", { amount: "100" });
    const k = key();
    const first = await pay(m.id, "95", { idempotencyKey: k });
    const calls = savedCardCharges(t.emulator, m.id).length;
    const again = await pay(m.id, "95", { idempotencyKey: k });
    expect(first.ok && again.ok).toBe(true);
    expect(again).toMatchObject({ replayed: true });
    expect(savedCardCharges(t.emulator, m.id)).toHaveLength(calls);
    expect(await getBalance(t.p, m.id)).toBe($("115"));
  });

  test("bad requests are refused with clear messages and change nothing", async () => {
    const m = await member("50");
    const other = await member("0");
    const cases: [Record<string, unknown>, string][] = [
      [{ amountCents: 0n }, "more than zero"],
      [{ amountCents: -$("5") }, "more than zero"],
      [{ otherMemberId: other.id }, "not both"],
      [{ description: "  " }, "description is required"],
    ];
    for (const [extra, message] of cases) {
      await expect(pay(m.id, "1", extra)).rejects.toThrow(message);
    }
    await expect(
      paymentApiBatch(t.p, {
        memberId: m.id,
        otherMemberId: m.id,
        amountCents: 100n,
        description: "me",
        idempotencyKey: key(),
      }),
    ).rejects.toThrow("cannot pay yourself");
    expect(await getBalance(t.p, m.id)).toBe($("50"));
  });

  test("book_internals = false only checks (and tops up); the caller books", async () => {
    const m = await member("30");
    const before = await t.p.db.entry.count();
    expect(await pay(m.id, "30", { bookInternals: false })).toMatchObject({ ok: true, postingId: null });
    expect(await pay(m.id, "30.01", { bookInternals: false })).toMatchObject({ ok: false });
    expect(await t.p.db.entry.count()).toBe(before);
  });

  test("with no payee named, the federation is paid", async () => {
    const m = await member("10");
    const r = await paymentApiBatch(t.p, {
      memberId: m.id,
      amountCents: 500n,
      description: "Levy",
      idempotencyKey: key(),
    });
    expect(r.ok).toBe(true);
    const abf = await t.p.db.organisation.findUniqueOrThrow({ where: { clubNumber: "ABF" } });
    expect(await orgBalance(t.p, abf.id)).toBeGreaterThanOrEqual(500n);
  });
});

describe("transfers", () => {
  test("member transfer rules: positive, at most $2,000, not to yourself, to an active member", async () => {
    const a = await member("3000");
    const b = await member("0");
    const off = await makeUser(t.p.db, { isActive: false });
    const go = (extra: Record<string, unknown>) =>
      memberTransfer(t.p, {
        fromUserId: a.id,
        toUserId: b.id,
        amountCents: $("10"),
        description: "x",
        idempotencyKey: key(),
        ...extra,
      });
    await expect(go({ amountCents: -$("10") })).rejects.toThrow("Must be a positive amount.");
    await expect(go({ amountCents: 0n })).rejects.toThrow("Must be a positive amount.");
    await expect(go({ amountCents: $("2000.01") })).rejects.toThrow("Maximum transfer amount is 2,000 credits");
    await expect(go({ toUserId: a.id })).rejects.toThrow("cannot transfer to yourself");
    await expect(go({ toUserId: off.id })).rejects.toThrow("not active");
    await expect(go({ toUserId: 9_999_999 })).rejects.toThrow("does not exist");
    await expect(go({ description: "" })).rejects.toThrow("description is required");
    expect(await getBalance(t.p, a.id)).toBe($("3000"));
    expect((await go({ amountCents: $("2000") })).ok).toBe(true);
  });

  test("club to member: at most the club's balance; officer recorded; sides typed as the original", async () => {
    const c = await makeClub(t.p.db);
    await fundOrganisation(t.p, c.id, $("100"), admin.id);
    const m = await member("0");
    const go = (amount: string | bigint) =>
      orgToMemberTransfer(t.p, {
        organisationId: c.id,
        toUserId: m.id,
        amountCents: typeof amount === "bigint" ? amount : $(amount),
        description: "Prize money",
        actorUserId: admin.id,
        idempotencyKey: key(),
      });
    await expect(go("100.01")).rejects.toThrow("Insufficient funds: the club's balance is $100.00.");
    await expect(go(-100n)).rejects.toThrow("positive");
    const r = await go("60");
    const posting = await t.p.db.posting.findUniqueOrThrow({ where: { id: r.postingId } });
    expect(posting.actorUserId).toBe(admin.id);
    const entries = await t.p.db.entry.findMany({ where: { postingId: r.postingId } });
    expect(entries.map((e) => [e.amountCents, e.type]).sort()).toEqual(
      [
        [-$("60"), "Org Transfer"],
        [$("60"), "Org Transfer"],
      ].sort(),
    );
    expect(await orgBalance(t.p, c.id)).toBe($("40"));
  });
});

describe("manual adjustments", () => {
  test("need a reason, a non-zero amount, and someone other than the member", async () => {
    const m = await member("0");
    const go = (extra: Record<string, unknown>) =>
      adjustMemberBalance(t.p, {
        userId: m.id,
        amountCents: $("5"),
        description: "Goodwill",
        actorUserId: admin.id,
        idempotencyKey: key(),
        ...extra,
      });
    await expect(go({ description: " " })).rejects.toThrow("A reason is required.");
    await expect(go({ amountCents: 0n })).rejects.toThrow("cannot be zero");
    await expect(go({ actorUserId: m.id })).rejects.toThrow("your own balance");
    const r = await go({});
    expect(r.balanceAfterCents).toBe($("5"));
  });
});

describe("IOUs", () => {
  test("only the debtor can pay; paying removes the IOU; paying twice books once", async () => {
    const debtor = await member("50");
    const other = await member("50");
    const iou = await createIou(t.p, {
      systemNumber: debtor.systemNumber,
      organisationId: club.id,
      amountCents: $("12.50"),
      description: "Tuesday pairs",
    });
    expect((await listIousForMember(t.p, debtor.id)).map((i) => i.id)).toEqual([iou.id]);
    await expect(payIou(t.p, { iouId: iou.id, payerUserId: other.id })).rejects.toThrow("your own IOUs");
    const [a, b] = await Promise.all([
      payIou(t.p, { iouId: iou.id, payerUserId: debtor.id }),
      payIou(t.p, { iouId: iou.id, payerUserId: debtor.id }).catch((e: AppError) => e),
    ]);
    expect(a.ok).toBe(true);
    expect(b instanceof AppError || (b as { ok: boolean }).ok).toBe(true);
    expect(await getBalance(t.p, debtor.id)).toBe($("37.50"));
    expect(await listIousForMember(t.p, debtor.id)).toEqual([]);
    await expect(payIou(t.p, { iouId: iou.id, payerUserId: debtor.id })).rejects.toThrow("already been paid");
  });

  test("an IOU the debtor cannot afford stays", async () => {
    const debtor = await member("1");
    const iou = await createIou(t.p, {
      systemNumber: debtor.systemNumber,
      organisationId: club.id,
      amountCents: $("12.50"),
      description: "Friday",
    });
    expect((await payIou(t.p, { iouId: iou.id, payerUserId: debtor.id })).ok).toBe(false);
    expect(await t.p.db.iou.count({ where: { id: iou.id } })).toBe(1);
  });
});

describe("callback router", () => {
  test("runs registered handlers, ignores an empty code, logs an unknown one", async () => {
    const got: string[] = [];
    t.p.callbacks.register("TST", async (payload) => {
      got.push(payload);
    });
    expect(await t.p.callbacks.run("TST", "42")).toBe(true);
    expect(await t.p.callbacks.run("", "x")).toBe(false);
    const errors: unknown[] = [];
    const original = t.p.logger.error.bind(t.p.logger);
    t.p.logger.error = ((obj: unknown) => errors.push(obj)) as typeof t.p.logger.error;
    expect(await t.p.callbacks.run("ZZZ", "1")).toBe(false);
    t.p.logger.error = original;
    expect(got).toEqual(["42"]);
    expect(errors).toEqual([{ routeCode: "ZZZ", payload: "1" }]);
    expect(() => t.p.callbacks.register("TST", async () => {})).toThrow("already registered");
  });
});

describe("balances", () => {
  test("member detail: balance and date of the last top-up", async () => {
    const m = await member("0", { amount: "50" });
    expect(await getBalanceDetail(t.p, m.id)).toEqual({ balanceCents: 0n, lastTopUpAt: null });
    await pay(m.id, "0.01").catch(() => {});
    const d = await getBalanceDetail(t.p, m.id);
    expect(d.lastTopUpAt).toBeInstanceOf(Date);
  });

  test("organisation balance at the start and end of a Sydney day", async () => {
    const c = await makeClub(t.p.db);
    const acct = await t.p.accounts.forOrganisation(c.id);
    const adj = await t.p.accounts.forSystem("ADJUSTMENTS");
    const book = (at: string, cents: bigint) =>
      t.p.ledger.post({
        idempotencyKey: key(),
        type: "Manual Adjustment",
        description: "dated",
        allowOverdraft: true,
        at: new Date(at),
        entries: [
          { accountId: acct, amountCents: cents, counterparty: 1 },
          { accountId: adj, amountCents: -cents, counterparty: 0 },
        ],
      });
    // 2026-03-10 00:30 in Sydney (UTC+11) is 2026-03-09 13:30 UTC.
    await book("2026-03-09T12:00:00Z", 1_000n); // 23:00 on the 9th, Sydney
    await book("2026-03-09T13:30:00Z", 500n); // 00:30 on the 10th, Sydney
    await book("2026-03-10T12:59:00Z", 250n); // 23:59 on the 10th, Sydney
    expect(await orgBalanceAt(t.p, c.id, "2026-03-09", "end")).toBe(1_000n);
    expect(await orgBalanceAt(t.p, c.id, "2026-03-10", "start")).toBe(1_000n);
    expect(await orgBalanceAt(t.p, c.id, "2026-03-10", "end")).toBe(1_750n);
    expect(await orgBalanceAt(t.p, c.id, "2026-03-08", "end")).toBe(0n);
    await expect(orgBalanceAt(t.p, c.id, "10/03/2026")).rejects.toThrow("YYYY-MM-DD");
    const recent = await orgBalanceWithRecent(t.p, c.id);
    expect(recent.balanceCents).toBe(1_750n);
    expect(recent.entries.map((e) => [e.amountCents, e.balanceAfterCents, e.counterparty])).toEqual([
      [250n, 1_750n, "Federation adjustment"],
      [500n, 1_500n, "Federation adjustment"],
      [1_000n, 1_000n, "Federation adjustment"],
    ]);
  });
});

describe("statistics and status", () => {
  test("report the ledger and card figures, and flag stuck card payments", async () => {
    const stats = await getPaymentsStatistics(t.p);
    expect(stats.membersWhoHaveMadePayments).toBeGreaterThan(0);
    expect(stats.totalCardPayments).toBe(await t.p.db.cardPayment.count());
    expect(stats.totalCardPaymentCents).toBeGreaterThan(0n);
    expect(await paymentsStatusSummary(t.p)).toMatchObject({ status: "Good" });
    const m = await member("0");
    await t.p.db.cardPayment.create({
      data: { userId: m.id, description: "stuck", amountCents: 100n, status: "PENDING" },
    });
    const s = await paymentsStatusSummary(t.p);
    expect(s.status).toBe("Bad");
    expect(s.pendingCardPayments).toHaveLength(1);
  });
});
