// IOU changes emit exactly one outbound event each, in the IOU's own transaction: created, paid (also when the
// payment is replayed), cancelled; a rolled-back change emits nothing. Also recordOutboundEvent on both kinds of
// client it accepts (pg and Prisma), and its source-key idempotency.
import { parseAmount } from "../../src/lib/money";
import { inTransaction } from "../../src/services/ledger/transaction";
import { cancelIou, createIou, payIou } from "../../src/services/payments/ious";
import { recordOutboundEvent } from "../../src/services/webhooks-out/record-event";
import { makeClub, makeUser } from "../helpers/app";
import { fundMember, startPayments, type TestPayments, violations } from "../helpers/payments";

let t: TestPayments;
let admin: { id: number };
let club: { id: number; clubNumber: string };
beforeAll(async () => {
  t = await startPayments();
  admin = await makeUser(t.p.db, { level: "EDIT" });
  club = await makeClub(t.p.db);
});
afterAll(() => t.close());
afterEach(async () => expect(await violations(t.p)).toEqual([]));

const eventsFor = (iouId: number) =>
  t.p.db.outboundEvent.findMany({ where: { payload: { path: ["id"], equals: iouId } }, orderBy: { id: "asc" } });

async function newIou(systemNumber: number, amount = "12.50") {
  return createIou(t.p, {
    systemNumber,
    organisationId: club.id,
    amountCents: parseAmount(amount),
    description: "Tuesday pairs",
  });
}

test("created, then paid: one event each, paid only once however often the payment is replayed", async () => {
  const debtor = await makeUser(t.p.db);
  await fundMember(t.p, debtor.id, parseAmount("50"), admin.id);
  const iou = await newIou(debtor.systemNumber);
  let events = await eventsFor(iou.id);
  expect(events.map((e) => e.type)).toEqual(["iou.created"]);
  expect(events[0]).toMatchObject({ organisationId: club.id, sourceKey: `iou.created:${iou.id}` });
  expect(events[0]!.publicId).toMatch(/^evt_[0-9a-f]{24}$/);
  expect(events[0]!.payload).toEqual({
    object: "iou",
    id: iou.id,
    member: debtor.systemNumber,
    organisation: { id: club.id, club_number: club.clubNumber },
    amount: 1250,
    currency: "aud",
    description: "Tuesday pairs",
    session_id: null,
    created: expect.any(Number),
  });

  expect((await payIou(t.p, { iouId: iou.id, payerUserId: debtor.id })).ok).toBe(true);
  // The UPP callback again, as a replayed payment (or the card webhook arriving twice) would run it.
  await t.p.callbacks.run("UPP", String(iou.id));
  events = await eventsFor(iou.id);
  expect(events.map((e) => e.type)).toEqual(["iou.created", "iou.paid"]);
  expect(await t.p.db.iou.count({ where: { id: iou.id } })).toBe(0);
});

test("cancelled: one event; another organisation cannot cancel it; a second cancel is refused", async () => {
  const debtor = await makeUser(t.p.db);
  const iou = await newIou(debtor.systemNumber);
  const otherClub = await makeClub(t.p.db, "Other");
  await expect(cancelIou(t.p, { iouId: iou.id, organisationId: otherClub.id })).rejects.toThrow("does not exist");
  expect((await eventsFor(iou.id)).map((e) => e.type)).toEqual(["iou.created"]);

  const cancelled = await cancelIou(t.p, { iouId: iou.id, organisationId: club.id });
  expect(cancelled.id).toBe(iou.id);
  await expect(cancelIou(t.p, { iouId: iou.id })).rejects.toThrow("already been paid or cancelled");
  expect((await eventsFor(iou.id)).map((e) => e.type)).toEqual(["iou.created", "iou.cancelled"]);
});

test("a rolled-back IOU change emits nothing", async () => {
  const debtor = await makeUser(t.p.db);
  const before = await t.p.db.outboundEvent.count();
  // Make the last write of createIou's transaction (the player's e-mail) fail, after the IOU and its event.
  await t.p.pool.query(`
    CREATE FUNCTION refuse_iou_mail() RETURNS trigger LANGUAGE plpgsql AS
      $$ BEGIN RAISE EXCEPTION 'mail outbox unavailable'; END $$;
    CREATE TRIGGER refuse_iou_mail BEFORE INSERT ON notifications
      FOR EACH ROW WHEN (NEW.kind = 'IOU_CREATED') EXECUTE FUNCTION refuse_iou_mail();`);
  try {
    await expect(newIou(debtor.systemNumber)).rejects.toThrow("mail outbox unavailable");
  } finally {
    await t.p.pool.query("DROP TRIGGER refuse_iou_mail ON notifications; DROP FUNCTION refuse_iou_mail();");
  }
  expect(await t.p.db.iou.count({ where: { systemNumber: debtor.systemNumber } })).toBe(0);
  expect(await t.p.db.outboundEvent.count()).toBe(before);
});

describe("recordOutboundEvent", () => {
  const input = (sourceKey?: string) => ({
    organisationId: club.id,
    type: "charge.succeeded" as const,
    data: { amount: 500n },
    sourceKey,
  });

  test("on a pg client and on a Prisma transaction: committed with the change, gone with a rollback", async () => {
    const before = await t.p.db.outboundEvent.count();
    const viaPg = await inTransaction(t.p.pool, (c) => recordOutboundEvent(c, input()));
    const viaPrisma = await t.p.db.$transaction((tx) => recordOutboundEvent(tx, input()));
    expect(viaPg.created && viaPrisma.created).toBe(true);
    await expect(
      t.p.db.$transaction(async (tx) => {
        await recordOutboundEvent(tx, input());
        throw new Error("the posting failed");
      }),
    ).rejects.toThrow("the posting failed");
    await expect(
      inTransaction(t.p.pool, async (c) => {
        await recordOutboundEvent(c, input());
        throw new Error("the posting failed");
      }),
    ).rejects.toThrow("the posting failed");
    expect(await t.p.db.outboundEvent.count()).toBe(before + 2);
  });

  test("the same source key records once and answers the first event's id", async () => {
    const first = await t.p.db.$transaction((tx) => recordOutboundEvent(tx, input("charge:ref-1")));
    const again = await inTransaction(t.p.pool, (c) => recordOutboundEvent(c, input("charge:ref-1")));
    expect(first.created).toBe(true);
    expect(again).toEqual({ id: first.id, created: false });
    expect(await t.p.db.outboundEvent.count({ where: { sourceKey: "charge:ref-1" } })).toBe(1);
  });
});
