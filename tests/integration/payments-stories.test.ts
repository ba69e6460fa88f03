// The original's own acceptance stories (reference §6.4 and §6.5), with their numbers.
import { parseAmount } from "../../src/lib/money";
import { getBalance, orgBalance } from "../../src/services/payments/balances";
import { memberTransfer } from "../../src/services/payments/member-transfer";
import { paymentApiBatch } from "../../src/services/payments/payment-api-batch";
import type { PaymentEventMap } from "../../src/services/payments/payment-events";
import { makeClub, makeUser } from "../helpers/app";
import {
  CARDS,
  fundMember,
  fundOrganisation,
  key,
  saveCard,
  startPayments,
  type TestPayments,
  violations,
} from "../helpers/payments";

const $ = (s: string) => parseAmount(s);

let t: TestPayments;
let admin: { id: number };
beforeAll(async () => {
  t = await startPayments();
  admin = await makeUser(t.p.db, { level: "EDIT" });
});
afterAll(() => t.close());
afterEach(async () => expect(await violations(t.p)).toEqual([]));

async function person(firstName: string, balance: string) {
  const u = await makeUser(t.p.db, { firstName });
  await fundMember(t.p, u.id, $(balance), admin.id);
  return u;
}

describe("§6.4 member actions", () => {
  test("1. Alan → Betty with enough money: 54.45 moves, both are told", async () => {
    const alan = await person("Alan", "470.00");
    const betty = await person("Betty", "404.44");
    const told: PaymentEventMap["memberTransfer"][] = [];
    const off = t.p.events.on("memberTransfer", (e) => told.push(e));
    const r = await memberTransfer(t.p, {
      fromUserId: alan.id,
      toUserId: betty.id,
      amountCents: $("54.45"),
      description: "Al to Betty, test transfer",
      idempotencyKey: key(),
    });
    off();
    expect(r.ok).toBe(true);
    expect(await getBalance(t.p, alan.id)).toBe($("415.55"));
    expect(await getBalance(t.p, betty.id)).toBe($("458.89"));
    expect(told).toEqual([
      { fromUserId: alan.id, toUserId: betty.id, amountCents: $("54.45"), description: "Al to Betty, test transfer" },
    ]);
    const [alanAcct, bettyAcct] = [await t.p.accounts.forUser(alan.id), await t.p.accounts.forUser(betty.id)];
    const last = (a: number) =>
      t.p.db.entry.findFirstOrThrow({ where: { accountId: a }, orderBy: { entryNo: "desc" } });
    expect(await last(bettyAcct)).toMatchObject({
      amountCents: $("54.45"),
      counterpartyAccountId: alanAcct,
      type: "Member Transfer",
    });
    expect(await last(alanAcct)).toMatchObject({ amountCents: -$("54.45"), counterpartyAccountId: bettyAcct });
  });

  test("2. Colin → Fiona 500 with 408.88 and no auto top-up: nothing moves; the card pays 91.12", async () => {
    const colin = await person("Colin", "408.88");
    const fiona = await person("Fiona", "305.26");
    const r = await memberTransfer(t.p, {
      fromUserId: colin.id,
      toUserId: fiona.id,
      amountCents: $("500"),
      description: "Team fees",
      idempotencyKey: key(),
    });
    expect(r).toMatchObject({ ok: false, reason: "INSUFFICIENT_FUNDS", cardAmountCents: $("91.12") });
    expect(await getBalance(t.p, colin.id)).toBe($("408.88"));
    expect(await getBalance(t.p, fiona.id)).toBe($("305.26"));
  });

  test("3. Alan with auto top-up (100) sends 1000: a top-up of exactly 1000, Alan stays at 415.55", async () => {
    const alan = await person("Alan", "415.55");
    const fiona = await person("Fiona", "0.01");
    await saveCard(t, alan.id, CARDS.ok, $("100"));
    const r = await memberTransfer(t.p, {
      fromUserId: alan.id,
      toUserId: fiona.id,
      amountCents: $("1000"),
      description: "Trigger Auto",
      idempotencyKey: key(),
    });
    expect(r).toMatchObject({ ok: true, topUpCents: $("1000") });
    expect(await getBalance(t.p, alan.id)).toBe($("415.55"));
    const fionaLast = await t.p.db.entry.findFirstOrThrow({
      where: { accountId: await t.p.accounts.forUser(fiona.id) },
      orderBy: { entryNo: "desc" },
    });
    expect(fionaLast.amountCents).toBe($("1000"));
    const posting = await t.p.db.posting.findUniqueOrThrow({ where: { id: fionaLast.postingId } });
    expect(posting.description).toBe("Trigger Auto");
    const alanTypes = await t.p.db.entry.findMany({
      where: { accountId: await t.p.accounts.forUser(alan.id) },
      orderBy: { entryNo: "asc" },
      select: { type: true, amountCents: true },
    });
    expect(alanTypes.slice(-2)).toEqual([
      { type: "Auto Top Up", amountCents: $("1000") },
      { type: "Member Transfer", amountCents: -$("1000") },
    ]);
  });
});

describe("§6.5 payment API (payer Alan, payee Fantasy Bridge Club)", () => {
  test("sufficient pays 50.67; insufficient 562.26 is refused and changes nothing", async () => {
    const alan = await person("Alan", "512.26");
    const club = await makeClub(t.p.db, "Fantasy Bridge Club");
    await fundOrganisation(t.p, club.id, $("34305.51"), admin.id);

    const ok = await paymentApiBatch(t.p, {
      memberId: alan.id,
      organisationId: club.id,
      amountCents: $("50.67"),
      description: "Session",
      idempotencyKey: key(),
    });
    expect(ok.ok).toBe(true);
    expect(await getBalance(t.p, alan.id)).toBe($("461.59"));
    expect(await orgBalance(t.p, club.id)).toBe($("34356.18"));

    const refused = await paymentApiBatch(t.p, {
      memberId: alan.id,
      organisationId: club.id,
      amountCents: $("562.26"),
      description: "Too much",
      idempotencyKey: key(),
    });
    expect(refused).toMatchObject({ ok: false, reason: "INSUFFICIENT_FUNDS", balanceCents: $("461.59") });
    expect(await getBalance(t.p, alan.id)).toBe($("461.59"));
    expect(await orgBalance(t.p, club.id)).toBe($("34356.18"));
  });
});
