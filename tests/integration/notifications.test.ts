// Every §3.21 message is written once per event, in the event's own transaction, and the mailer sends each once.
import nodemailer from "nodemailer";
import { createLogger } from "../../src/lib/logger";
import { memberRefund } from "../../src/services/cards/card-refunds";
import { createMailer } from "../../src/services/notifications/mailer";
import { createEmailRenderer } from "../../src/services/notifications/render-email";
import { autoTopUpMember } from "../../src/services/payments/auto-topup-member";
import { createIou } from "../../src/services/payments/ious";
import { orgToMemberTransfer } from "../../src/services/payments/org-to-member-transfer";
import { paymentApiBatch } from "../../src/services/payments/payment-api-batch";
import { makeClub, makeUser } from "../helpers/app";
import { type CardStack, startCardStack, topUpByCard, webhooksSettled } from "../helpers/card-stack";
import { CARDS, fundMember, fundOrganisation, key, saveCard } from "../helpers/payments";

let s: CardStack;
let admin: { id: number; firstName: string; lastName: string };
beforeAll(async () => {
  s = await startCardStack();
  admin = await makeUser(s.p.db, { level: "EDIT", firstName: "Fran" });
});
afterAll(() => s.close());

const renderer = createEmailRenderer({
  federationName: "Test Federation",
  publicUrl: "https://bc.example",
  timeZone: "Australia/Sydney",
});
const inbox = (userId: number) => s.p.db.notification.findMany({ where: { userId }, orderBy: { id: "asc" } });

test("a member transfer writes both e-mails once, however often it is retried", async () => {
  const [a, b] = [await makeUser(s.p.db, { firstName: "Ann" }), await makeUser(s.p.db, { firstName: "Ben" })];
  await fundMember(s.p, a.id, 10_000n, admin.id);
  const k = key();
  const transfer = () =>
    paymentApiBatch(s.p, {
      memberId: a.id,
      otherMemberId: b.id,
      amountCents: 2_550n,
      description: "Dinner",
      type: "Member Transfer",
      idempotencyKey: k,
    });
  await Promise.all([transfer(), transfer(), transfer()]);
  const sent = await inbox(a.id);
  const got = await inbox(b.id);
  expect(sent.map((n) => n.subject)).toEqual([`Transfer to Ben ${b.lastName}`]);
  expect(sent[0]!.body).toBe(
    `You have transferred 25.50 credits into the Bridge Credits account of Ben ${b.lastName}. The description was: Dinner. Please contact us immediately if you do not recognise this transaction.`,
  );
  expect(got.map((n) => n.subject)).toEqual([`Transfer from Ann ${a.lastName}`]);
  expect(got[0]!.body).toContain("Please contact Ann directly");
});

describe("low balance warning (§3.12.1)", () => {
  const pay = async (userId: number, cents: bigint) =>
    paymentApiBatch(s.p, {
      memberId: userId,
      organisationId: (await makeClub(s.p.db)).id,
      amountCents: cents,
      description: "Table money",
      idempotencyKey: key(),
    });

  test("under $20 after a payment: warned with the balance; exactly $20 is not under", async () => {
    const m = await makeUser(s.p.db);
    await fundMember(s.p, m.id, 4_000n, admin.id);
    await pay(m.id, 2_000n);
    expect(await inbox(m.id)).toEqual([]);
    await pay(m.id, 500n);
    const [warning] = await inbox(m.id);
    expect(warning).toMatchObject({ subject: "Low Balance Warning", linkUrl: "/payments/manual-topup" });
    expect(warning!.body).toContain("Your Bridge Credits balance is now $15.00.");
  });

  test("not for members who opted out, nor for those with auto top-up (who are topped up instead)", async () => {
    const out = await makeUser(s.p.db);
    await s.p.db.user.update({ where: { id: out.id }, data: { receiveLowBalanceEmails: false } });
    await fundMember(s.p, out.id, 3_000n, admin.id);
    await pay(out.id, 2_000n);
    expect(await inbox(out.id)).toEqual([]);

    const auto = await makeUser(s.p.db);
    await fundMember(s.p, auto.id, 3_000n, admin.id);
    await saveCard(s, auto.id, CARDS.ok, 5_000n);
    await pay(auto.id, 2_000n);
    expect((await inbox(auto.id)).map((n) => n.subject)).toEqual(["Auto top up successful"]);
  });
});

test("auto top-up: success once despite repeated webhooks; a hard decline tells the member how to fix it", async () => {
  const ok = await makeUser(s.p.db);
  await saveCard(s, ok.id, CARDS.ok, 5_000n);
  s.emulator.webhooks.duplicates = 2;
  try {
    await autoTopUpMember(s.p, { userId: ok.id, idempotencyKey: key() });
    await webhooksSettled(s.emulator);
  } finally {
    s.emulator.webhooks.duplicates = 0;
  }
  const [success] = await inbox(ok.id);
  expect((await inbox(ok.id)).length).toBe(1);
  expect(success!.body).toBe("Auto top up of $50.00 into your Bridge Credits account was successful.");

  const bad = await makeUser(s.p.db);
  await saveCard(s, bad.id, CARDS.declinesWhenCharged, 5_000n);
  await autoTopUpMember(s.p, { userId: bad.id, idempotencyKey: key() });
  const [failure] = await inbox(bad.id);
  expect(failure).toMatchObject({
    subject: "Auto Top Up Failure",
    linkUrl: "/payments/setup-autotopup",
    linkText: "Auto Top Up",
  });
  expect(failure!.body).toContain("we received this message: Your card was declined.");
});

test("refunds, club transfers and IOUs each write their message", async () => {
  const m = await makeUser(s.p.db);
  const card = { id: await topUpByCard(s, m.id, 10_000n) };
  await memberRefund(s.p, m.id, card.id);

  const club = await makeClub(s.p.db, "Harbour");
  await fundOrganisation(s.p, club.id, 10_000n, admin.id);
  await orgToMemberTransfer(s.p, {
    organisationId: club.id,
    toUserId: m.id,
    amountCents: 1_000n,
    description: "Prize",
    actorUserId: admin.id,
    idempotencyKey: key(),
  });
  await createIou(s.p, {
    systemNumber: m.systemNumber,
    organisationId: club.id,
    amountCents: 700n,
    description: "Tuesday table money",
  });

  const subjects = (await inbox(m.id)).map((n) => n.subject);
  expect(subjects).toEqual(["Card Refund", `Transfer from ${club.name}`, `Pending Payment to ${club.name}`]);
  const [refund, transfer] = await inbox(m.id);
  expect(refund!.body).toContain("You will receive a refund of $97.00 to your card.");
  expect(transfer!.body).toContain(`This transfer was made by Fran ${admin.lastName}.`);
});

test("the mailer sends each waiting e-mail once, and records failures", async () => {
  const m = await makeUser(s.p.db);
  await createIou(s.p, {
    systemNumber: m.systemNumber,
    organisationId: (await makeClub(s.p.db)).id,
    amountCents: 500n,
    description: "x",
  });
  const transport = nodemailer.createTransport({ jsonTransport: true });
  const sent: string[] = [];
  const spy = {
    sendMail: async (msg: Parameters<typeof transport.sendMail>[0]) => {
      const info = await transport.sendMail(msg);
      sent.push(JSON.parse(String(info.message)).to[0].address);
      return info;
    },
  };
  const mailer = createMailer({
    pool: s.database.pool,
    transport: spy,
    from: "t@example.test",
    renderer,
    logger: createLogger("silent"),
  });
  const first = await mailer.sendPending();
  expect(first).toBeGreaterThan(0);
  expect(sent).toContain(m.email);
  expect(await mailer.sendPending()).toBe(0);
  expect(await s.p.db.notification.count({ where: { sendEmail: true, sentAt: null } })).toBe(0);

  await createIou(s.p, {
    systemNumber: m.systemNumber,
    organisationId: (await makeClub(s.p.db)).id,
    amountCents: 600n,
    description: "y",
  });
  const broken = createMailer({
    pool: s.database.pool,
    transport: { sendMail: async () => Promise.reject(new Error("connection refused")) },
    from: "t@example.test",
    renderer,
    logger: createLogger("silent"),
  });
  await broken.sendPending();
  expect(await broken.sendPending()).toBe(0); // a failure waits before it is tried again
  const failed = await s.p.db.notification.findFirstOrThrow({ where: { userId: m.id, sentAt: null } });
  expect(failed).toMatchObject({ sendAttempts: 1, lastError: "connection refused" });
});
