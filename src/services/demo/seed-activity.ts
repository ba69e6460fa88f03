// Six weeks of demo activity, booked through the posting engine with past dates, so a new installation shows
// real statements, club accounts, a movement report and clubs to settle for last month: opening balances, table
// money at club sessions, a member transfer, a club transfer and an IOU. Runs once, right after the demo people.
import type { PostingInput } from "../ledger/posting";
import type { Payments } from "../payments/context";
import { createIou } from "../payments/ious";

const DAY = 86_400_000;

export async function seedDemoActivity(p: Payments) {
  const users = await p.db.user.findMany({ orderBy: { systemNumber: "asc" } });
  const clubs = await p.db.organisation.findMany({ where: { type: "CLUB" }, orderBy: { clubNumber: "asc" } });
  const finance = users.find((u) => u.email.startsWith("finance@"));
  const members = users.filter((u) => u.systemNumber < 620100);
  if (!finance || clubs.length === 0 || members.length === 0) return;
  // Midnight UTC six weeks ago; hours are Sydney evening session times (UTC+10/+11, close enough for a demo).
  const start = Math.floor(Date.now() / DAY) * DAY - 42 * DAY;
  const at = (day: number, sydneyHour = 19) => new Date(start + day * DAY + (sydneyHour - 11) * 3_600_000);
  const postings: PostingInput[] = [];

  members.forEach((m, i) => {
    const cents = BigInt(5_000 + i * 2_500);
    postings.push({
      idempotencyKey: `demo:opening:${m.id}`,
      type: "Manual Adjustment",
      description: "Opening balance (demo)",
      actorUserId: finance.id,
      allowOverdraft: true,
      at: at(0, 9),
      entries: [
        { userId: m.id, amountCents: cents, counterparty: 1 },
        { system: "ADJUSTMENTS", amountCents: -cents, counterparty: 0 },
      ],
    });
  });
  // Weekly sessions: each member plays at one club most weeks, $7.50 table money.
  for (let week = 0; week < 6; week++) {
    members.forEach((m, i) => {
      if ((i + week) % 4 === 3) return;
      const club = clubs[i % clubs.length]!;
      postings.push({
        idempotencyKey: `demo:session:${week}:${m.id}`,
        type: "Club Payment",
        description: `Table money, ${club.name} week ${week + 1}`,
        clubSessionId: 1000 + week * 10 + (i % clubs.length),
        at: at(week * 7 + 1 + (i % 3)),
        entries: [
          { userId: m.id, amountCents: -750n, counterparty: 1 },
          { organisationId: club.id, amountCents: 750n, counterparty: 0 },
        ],
      });
    });
  }
  const [a, b] = [members[0]!, members[1]!];
  postings.push({
    idempotencyKey: "demo:transfer",
    type: "Member Transfer",
    description: "Congress entry share",
    at: at(20),
    entries: [
      { userId: b.id, amountCents: -2_000n, counterparty: 1 },
      { userId: a.id, amountCents: 2_000n, counterparty: 0 },
    ],
  });
  postings.push({
    idempotencyKey: "demo:club-prize",
    type: "Org Transfer",
    description: "Pairs championship prize",
    actorUserId: finance.id,
    at: at(30),
    entries: [
      { organisationId: clubs[0]!.id, amountCents: -1_500n, counterparty: 1 },
      { userId: a.id, amountCents: 1_500n, counterparty: 0 },
    ],
  });
  postings.sort((x, y) => x.at!.getTime() - y.at!.getTime());
  for (const posting of postings) await p.ledger.post(posting);
  await createIou(p, {
    systemNumber: a.systemNumber,
    organisationId: clubs[0]!.id,
    amountCents: 750n,
    description: "Table money, Tuesday (paid later)",
  });
}
