// Settlement (reference §3.11): the worked example and the override case, the bounds, what is still settleable
// after a settlement (for that date, an earlier and a later one), two confirmations at once, and the ABA bank file
// checked field by field against the Direct Entry format, with the federation's details from the settings.
import { abaFile } from "../../src/services/settlement/aba-file";
import {
  confirmSettlement,
  defaultReferenceDate,
  planSettlement,
  settlementCandidates,
} from "../../src/services/settlement/settlement";
import { makeClub, makeUser } from "../helpers/app";
import { fundOrganisation, key, startPayments, type TestPayments, violations } from "../helpers/payments";
import { bookForClub, clubWithHistory, DIRECT_ENTRY, setDirectEntry } from "../helpers/settlement";

let t: TestPayments;
let admin: { id: number };
// Today in Sydney: balances are taken at the end of a Sydney day.
const today = () => new Intl.DateTimeFormat("en-CA", { timeZone: "Australia/Sydney" }).format(new Date());
beforeAll(async () => {
  t = await startPayments();
  admin = await makeUser(t.p.db, { level: "EDIT" });
  await setDirectEntry(t.p.db);
});
afterAll(() => t.close());
afterEach(async () => expect(await violations(t.p)).toEqual([]));

async function club(balanceCents: bigint, minCents = 10_000n, bank = { bsb: "062000", account: "12345678" }) {
  const c = await makeClub(t.p.db, "Settle");
  await t.p.db.organisation.update({
    where: { id: c.id },
    data: { bankBsb: bank.bsb, bankAccount: bank.account, minBalanceAfterSettlementCents: minCents },
  });
  await fundOrganisation(t.p, c.id, balanceCents, admin.id);
  return c;
}

const balance = async (organisationId: number) =>
  (await t.p.db.account.findUniqueOrThrow({ where: { organisationId } })).balanceCents;
const system = async (code: string) =>
  (await t.p.db.account.findUniqueOrThrow({ where: { systemCode: code } })).balanceCents;

test("the default reference date is the last day of the previous month", () => {
  expect(defaultReferenceDate("Australia/Sydney", new Date("2026-11-26T10:00:00Z"))).toBe("2026-10-31");
  expect(defaultReferenceDate("Australia/Sydney", new Date("2026-03-01T05:00:00Z"))).toBe("2026-02-28");
});

test("worked example: $1,000 balance, $100 minimum, 3 % → $900 debited, $873 to the bank, $27 fee", async () => {
  const c = await club(100_000n);
  const [cand] = (await settlementCandidates(t.p, today())).filter((x) => x.organisationId === c.id);
  expect(cand).toMatchObject({ balanceCents: 100_000n, settleableCents: 90_000n, feeCents: 2_700n, netCents: 87_300n });
  const [payable, fees] = [await system("SETTLEMENTS_PAYABLE"), await system("FEE_INCOME")];
  const r = await confirmSettlement(t.p, {
    referenceDate: today(),
    selection: [{ organisationId: c.id }],
    actorUserId: admin.id,
    requestKey: key(),
  });
  expect(await balance(c.id)).toBe(10_000n);
  expect((await system("SETTLEMENTS_PAYABLE")) - payable).toBe(87_300n);
  expect((await system("FEE_INCOME")) - fees).toBe(2_700n);
  const s = await t.p.db.settlement.findFirstOrThrow({ where: { batchId: r.batchId } });
  expect(s).toMatchObject({ grossCents: 90_000n, netCents: 87_300n, feeCents: 2_700n });
  const posting = await t.p.db.posting.findUniqueOrThrow({ where: { id: s.postingId } });
  expect(posting.description).toBe("Settlement from ABF. Fees 3.00%. Net Bank Transfer: $873.00.");
});

test("override: $500 of the $900 → $485 to the bank, $15 fee; bounds are enforced on the server", async () => {
  const c = await club(100_000n);
  const tooMuch = planSettlement(t.p, today(), [{ organisationId: c.id, overrideCents: 90_001n }]);
  await expect(tooMuch).rejects.toThrow(`Invalid settlement amount for ${c.name}`);
  await expect(planSettlement(t.p, today(), [{ organisationId: c.id, overrideCents: 0n }])).rejects.toThrow(
    "Invalid settlement amount",
  );
  const [plan] = await planSettlement(t.p, today(), [{ organisationId: c.id, overrideCents: 50_000n }]);
  expect(plan).toMatchObject({ grossCents: 50_000n, settleNetCents: 48_500n, settleFeeCents: 1_500n });
  await confirmSettlement(t.p, {
    referenceDate: today(),
    selection: [{ organisationId: c.id, overrideCents: 50_000n }],
    actorUserId: admin.id,
    requestKey: key(),
  });
  expect(await balance(c.id)).toBe(50_000n);
});

test("all or nothing: one bad club (no bank details) stops the whole batch", async () => {
  const good = await club(50_000n);
  const nobank = await club(50_000n, 0n, { bsb: "062000", account: "1234" });
  await t.p.db.organisation.update({ where: { id: nobank.id }, data: { bankBsb: null } });
  await expect(
    confirmSettlement(t.p, {
      referenceDate: today(),
      selection: [{ organisationId: good.id }, { organisationId: nobank.id }],
      actorUserId: admin.id,
      requestKey: key(),
    }),
  ).rejects.toThrow(`${nobank.name} cannot be paid by bank file: no valid BSB.`);
  expect(await balance(good.id)).toBe(50_000n);
});

test("two confirmations at once, and the same one twice, settle a club once", async () => {
  const c = await club(60_000n);
  const selection = [{ organisationId: c.id }];
  const results = await Promise.allSettled(
    [key(), key(), key()].map((k) =>
      confirmSettlement(t.p, { referenceDate: today(), selection, actorUserId: admin.id, requestKey: k }),
    ),
  );
  expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
  expect(await balance(c.id)).toBe(10_000n);
  const k = key();
  const other = await club(30_000n);
  const first = await confirmSettlement(t.p, {
    referenceDate: today(),
    selection: [{ organisationId: other.id }],
    actorUserId: admin.id,
    requestKey: k,
  });
  const again = await confirmSettlement(t.p, {
    referenceDate: today(),
    selection: [{ organisationId: other.id }],
    actorUserId: admin.id,
    requestKey: k,
  });
  expect(again).toEqual({ batchId: first.batchId, replayed: true });
  await expect(
    confirmSettlement(t.p, {
      referenceDate: today(),
      selection: [{ organisationId: other.id }],
      actorUserId: admin.id,
      requestKey: key(),
    }),
  ).rejects.toThrow("already settled");
});

test("the ABA file, field by field: a reference longer than 18 characters is refused, never cut", () => {
  const header = {
    bankCode: "CBA",
    userName: "Australian Bridge Fed",
    userId: "301500",
    description: "Settlement",
    processingDate: new Date("2026-11-01T00:00:00Z"),
    traceBsb: "062000",
    traceAccount: "98765432",
    remitterName: "ABF Bridge Credit",
  };
  const pay = (reference: string) => ({
    bsb: "062000",
    account: "12345678",
    accountName: "Harbourside Bridge Club",
    amountCents: 87_300n,
    reference,
  });
  expect(() => abaFile(header, [pay("SETTLE 3107 2026-10")])).toThrow("does not fit 18 characters");
  const file = abaFile(header, [
    pay("B12 20261031"),
    { bsb: "733123", account: "1234", accountName: "Café Bridge Club", amountCents: 5n, reference: "B12 20261031" },
  ]);
  expect(file.endsWith("\r\n")).toBe(true);
  const lines = file.split("\r\n").slice(0, -1);
  expect(lines.map((l) => l.length)).toEqual([120, 120, 120, 120]);
  const [h, d1, d2, tot] = lines as [string, string, string, string];
  const f = (l: string, from: number, to: number) => l.slice(from - 1, to);
  // Descriptive record (type 0)
  expect(f(h, 1, 1)).toBe("0");
  expect(f(h, 2, 18)).toBe(" ".repeat(17));
  expect(f(h, 19, 20)).toBe("01");
  expect(f(h, 21, 23)).toBe("CBA");
  expect(f(h, 31, 56)).toBe("AUSTRALIAN BRIDGE FED".padEnd(26));
  expect(f(h, 57, 62)).toBe("301500");
  expect(f(h, 63, 74)).toBe("SETTLEMENT  ");
  expect(f(h, 75, 80)).toBe("011126");
  // Detail records (type 1)
  expect(f(d1, 1, 1)).toBe("1");
  expect(f(d1, 2, 8)).toBe("062-000");
  expect(f(d1, 9, 17)).toBe(" 12345678");
  expect(f(d1, 18, 18)).toBe(" ");
  expect(f(d1, 19, 20)).toBe("50");
  expect(f(d1, 21, 30)).toBe("0000087300");
  expect(f(d1, 31, 62)).toBe("HARBOURSIDE BRIDGE CLUB".padEnd(32));
  expect(f(d1, 63, 80)).toBe("B12 20261031".padEnd(18));
  expect(f(d1, 81, 87)).toBe("062-000");
  expect(f(d1, 88, 96)).toBe(" 98765432");
  expect(f(d1, 97, 112)).toBe("ABF BRIDGE CREDI");
  expect(f(d1, 113, 120)).toBe("00000000");
  expect(f(d2, 2, 8)).toBe("733-123");
  expect(f(d2, 9, 17)).toBe("     1234");
  expect(f(d2, 31, 62)).toBe("CAFE BRIDGE CLUB".padEnd(32));
  expect(f(d2, 21, 30)).toBe("0000000005");
  // File total record (type 7)
  expect(f(tot, 1, 8)).toBe("7999-999");
  expect(f(tot, 9, 20)).toBe(" ".repeat(12));
  expect(f(tot, 21, 30)).toBe("0000087305");
  expect(f(tot, 31, 40)).toBe("0000087305");
  expect(f(tot, 41, 50)).toBe("0000000000");
  expect(f(tot, 75, 80)).toBe("000002");
  expect(f(tot, 81, 120)).toBe(" ".repeat(40));
});

test("a confirmed batch keeps its bank file: the same bytes every download", async () => {
  const c = await club(20_000n);
  const r = await confirmSettlement(t.p, {
    referenceDate: today(),
    selection: [{ organisationId: c.id }],
    actorUserId: admin.id,
    requestKey: key(),
  });
  const batch = await t.p.db.settlementBatch.findUniqueOrThrow({ where: { id: r.batchId } });
  const lines = batch.abaFile.split("\r\n");
  expect(lines[1]!.slice(20, 30)).toBe("0000009700"); // $100 settleable less 3 %
  expect(batch).toMatchObject({ grossCents: 10_000n, feeCents: 300n, netCents: 9_700n });
});

// --- what is still settleable (issue 15 item 2) ------------------------------------------------------------------

const candidateAt = async (date: string, organisationId: number) =>
  (await settlementCandidates(t.p, date)).find((c) => c.organisationId === organisationId);
const settle = (date: string, organisationId: number, overrideCents?: bigint) =>
  confirmSettlement(t.p, {
    referenceDate: date,
    selection: [{ organisationId, overrideCents }],
    actorUserId: admin.id,
    requestKey: key(),
  });

test("after a settlement the paid money is not offered again, for that date, an earlier or a later one", async () => {
  // $1,000 by 30 September, $500 more in October; minimum $100, fee 3 % (the reference's worked example).
  const c = await clubWithHistory(t.p, [
    ["2025-09-15T02:00:00Z", 100_000n],
    ["2025-10-15T02:00:00Z", 50_000n],
  ]);
  expect(await candidateAt("2025-09-30", c.id)).toMatchObject({
    balanceCents: 100_000n,
    settledAfterCents: 0n,
    settleableCents: 90_000n,
    feeCents: 2_700n,
    netCents: 87_300n,
  });
  expect(await candidateAt("2025-10-31", c.id)).toMatchObject({ balanceCents: 150_000n, settleableCents: 140_000n });

  await settle("2025-09-30", c.id); // $900 gross, $873 to the bank, $27 fee
  expect(await balance(c.id)).toBe(60_000n);
  // Settled for September: nothing left for September.
  expect(await candidateAt("2025-09-30", c.id)).toBeUndefined();
  await expect(planSettlement(t.p, "2025-09-30", [{ organisationId: c.id }])).rejects.toThrow(
    `${c.name} was already settled for 2025-09-30.`,
  );
  // October: $1,500 − $100 minimum − $900 settled since = $500, net $485 and fee $15.
  expect(await candidateAt("2025-10-31", c.id)).toMatchObject({
    balanceCents: 150_000n,
    settledAfterCents: 90_000n,
    settleableCents: 50_000n,
    feeCents: 1_500n,
    netCents: 48_500n,
    alreadySettled: false,
  });
  await expect(planSettlement(t.p, "2025-10-31", [{ organisationId: c.id, overrideCents: 50_001n }])).rejects.toThrow(
    `Invalid settlement amount for ${c.name}: must be more than $0.00 and at most $500.00.`,
  );
  await settle("2025-10-31", c.id);
  expect(await balance(c.id)).toBe(10_000n);
  // Both months paid: neither date, nor an earlier one, offers the club again.
  for (const date of ["2025-08-31", "2025-09-30", "2025-10-31"]) expect(await candidateAt(date, c.id)).toBeUndefined();
});

test("never more than today's balance: money spent since the reference date is not offered", async () => {
  const c = await clubWithHistory(t.p, [["2025-09-15T02:00:00Z", 80_000n]], { minCents: 0n });
  await bookForClub(t.p, c.id, -30_000n); // spent today
  expect(await candidateAt("2025-09-30", c.id)).toMatchObject({
    balanceCents: 80_000n,
    currentCents: 50_000n,
    settleableCents: 50_000n,
    feeCents: 1_500n,
    netCents: 48_500n,
  });
});

test("a club without a valid BSB or account is listed with the reason (the screen cannot tick it)", async () => {
  const noBsb = await clubWithHistory(t.p, [["2025-09-15T02:00:00Z", 20_000n]], { bsb: null });
  const badAccount = await clubWithHistory(t.p, [["2025-09-15T02:00:00Z", 20_000n]], { account: null });
  expect((await candidateAt("2025-09-30", noBsb.id))?.bankProblem).toBe("no valid BSB");
  expect((await candidateAt("2025-09-30", badAccount.id))?.bankProblem).toBe("no valid account number");
});

// --- the bank file's federation details (issue 15 item 15) ---------------------------------------------------------

test("no settlement while the federation's Direct Entry details are unset; nothing is booked", async () => {
  const c = await clubWithHistory(t.p, [["2025-09-15T02:00:00Z", 30_000n]]);
  await setDirectEntry(t.p.db, { abaUserId: null, federationBsb: null });
  try {
    await expect(settle("2025-09-30", c.id)).rejects.toThrow(
      "The settlement bank file cannot be written: the APCA user id, federation BSB are not set. A finance editor sets them on the Payment settings page",
    );
    expect(await balance(c.id)).toBe(30_000n);
    expect(await t.p.db.settlement.count({ where: { organisationId: c.id } })).toBe(0);
  } finally {
    await setDirectEntry(t.p.db);
  }
});

test("the stored bank file, parsed back: the settings' user id, bank and trace account, a whole reference", async () => {
  const a = await clubWithHistory(t.p, [["2025-09-15T02:00:00Z", 100_000n]], { bsb: "733123", account: "1234" });
  const b = await clubWithHistory(t.p, [["2025-09-15T02:00:00Z", 20_000n]], { minCents: 0n });
  const r = await confirmSettlement(t.p, {
    referenceDate: "2025-09-30",
    selection: [{ organisationId: a.id }, { organisationId: b.id }],
    actorUserId: admin.id,
    requestKey: key(),
  });
  const { abaFile: file } = await t.p.db.settlementBatch.findUniqueOrThrow({ where: { id: r.batchId } });
  const lines = file.split("\r\n");
  expect(lines.pop()).toBe("");
  expect(lines.map((l) => l.length)).toEqual([120, 120, 120, 120]);
  const [h, d1, d2, tot] = lines as [string, string, string, string];
  const f = (l: string, from: number, to: number) => l.slice(from - 1, to);
  const sydneyToday = today().split("-");
  expect(f(h, 1, 1)).toBe("0");
  expect(f(h, 21, 23)).toBe(DIRECT_ENTRY.abaBankCode);
  expect(f(h, 57, 62)).toBe(DIRECT_ENTRY.abaUserId);
  expect(f(h, 63, 74)).toBe("SETTLEMENT  ");
  expect(f(h, 75, 80)).toBe(`${sydneyToday[2]}${sydneyToday[1]}${sydneyToday[0]!.slice(2)}`);
  const reference = `B${r.batchId} 20250930`;
  for (const [d, bsb, account, net] of [
    [d1, "733-123", "     1234", "0000087300"],
    [d2, "062-000", " 12345678", "0000019400"],
  ] as const) {
    expect(f(d, 1, 1)).toBe("1");
    expect(f(d, 2, 8)).toBe(bsb);
    expect(f(d, 9, 17)).toBe(account);
    expect(f(d, 19, 20)).toBe("50");
    expect(f(d, 21, 30)).toBe(net);
    expect(f(d, 63, 80)).toBe(reference.padEnd(18));
    expect(f(d, 81, 87)).toBe("032-001");
    expect(f(d, 88, 96)).toBe("   556677");
  }
  expect(f(d1, 31, 62).trim()).toBe(a.name.toUpperCase());
  expect(f(tot, 1, 8)).toBe("7999-999");
  expect(f(tot, 21, 30)).toBe("0000106700");
  expect(f(tot, 75, 80)).toBe("000002");
});
