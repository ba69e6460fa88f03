// The posting engine's one-statement fast path (book-at-once.ts). It must book exactly what the careful path
// (book-postings.ts) would, and when it cannot — a refusal, a replay, a warning to write, an account it cannot
// name — write nothing at all, so the engine can book the batch the careful way.
import fc from "fast-check";
import type pg from "pg";
import { bookAtOnce } from "../../src/services/ledger/book-at-once";
import { bookPostings } from "../../src/services/ledger/book-postings";
import type { PostingInput, PostingResult } from "../../src/services/ledger/posting";
import { quickClub, quickMember } from "../helpers/fast-people";
import { fundMember, key, ledgerSnapshot, startPayments, type TestPayments, violations } from "../helpers/payments";

let t: TestPayments;
let client: pg.PoolClient;
let admin: { id: number };
beforeAll(async () => {
  t = await startPayments();
  client = await t.database.pool.connect();
  admin = await quickMember(t.p.db);
});
afterAll(async () => {
  client.release();
  await t.close();
});
afterEach(async () => expect(await violations(t.p)).toEqual([]));

const snapshot = () => ledgerSnapshot(t.p);

/** What the careful path answers for `batch` right now, without keeping anything. */
async function carefulAnswers(batch: PostingInput[]): Promise<PostingResult[]> {
  await client.query("BEGIN");
  try {
    return await bookPostings(client, batch, {});
  } finally {
    await client.query("ROLLBACK");
  }
}

const pay = (from: { userId: number }, to: { organisationId: number } | { userId: number }, cents: bigint) =>
  ({
    idempotencyKey: key("fast"),
    type: "Club Payment",
    description: "Session fee",
    entries: [
      { ...from, amountCents: -cents, counterparty: 1 },
      { ...to, amountCents: cents, counterparty: 0 },
    ],
  }) satisfies PostingInput;

const warnBelow = (p: PostingInput, userId: number, cents: bigint): PostingInput => ({
  ...p,
  notify: [
    {
      kind: "LOW_BALANCE",
      userId,
      subject: "Low balance",
      body: "Your balance is {balance}",
      dedupeKey: `low:${p.idempotencyKey}`,
      whenBalanceBelow: { entryIndex: 0, cents },
    },
  ],
});

const balancesOf = (rs: PostingResult[]) => rs.map((r) => (r.status === "POSTED" ? r.balances : r.status));

test("a random batch is booked at once exactly as the careful path would, or not at all", async () => {
  const members = [await quickMember(t.p.db), await quickMember(t.p.db), await quickMember(t.p.db)];
  const clubs = [await quickClub(t.p.db), await quickClub(t.p.db)];
  const booked: PostingInput[] = [];
  const cache = new Map<string, number>();
  const leg = fc.record({
    kind: fc.constantFrom("club", "club", "club", "member", "member", "member", "replay"),
    from: fc.integer({ min: 0, max: 2 }),
    to: fc.integer({ min: 0, max: 2 }),
    cents: fc.bigInt({ min: 1n, max: 9_000n }),
    warnAt: fc.oneof(
      { weight: 3, arbitrary: fc.constant(undefined) },
      { weight: 1, arbitrary: fc.bigInt({ min: 1n, max: 15_000n }) },
    ),
  });
  let fast = 0;
  let careful = 0;
  await fc.assert(
    // `fresh`: the accounts are named as the postings name them (the statement resolves them), not by known ids.
    fc.asyncProperty(fc.array(leg, { minLength: 1, maxLength: 8 }), fc.boolean(), async (legs, fresh) => {
      // Each batch starts with every member holding at least $200, so both outcomes keep coming.
      for (const m of members) {
        const { balanceCents } = await t.p.db.account.findUniqueOrThrow({ where: { userId: m.id } });
        if (balanceCents < 20_000n) await fundMember(t.p, m.id, 20_000n - balanceCents, admin.id);
      }
      const batch = legs.map((l): PostingInput => {
        if (l.kind === "replay" && booked.length > 0) return booked[Number(l.cents) % booked.length]!;
        const from = { userId: members[l.from]!.id };
        const to = l.kind === "club" ? { organisationId: clubs[l.from % 2]!.id } : { userId: members[l.to]!.id };
        const p = pay(from, to, l.cents);
        return l.warnAt === undefined ? p : warnBelow(p, from.userId, l.warnAt);
      });
      const expected = await carefulAnswers(batch);
      const warned = batch.some((p, i) => {
        const r = expected[i]!;
        const w = p.notify?.[0]?.whenBalanceBelow;
        return r.status === "POSTED" && w !== undefined && r.balances[w.entryIndex]!.balanceAfterCents < w.cents;
      });
      const everyOnePosts = expected.every((r) => r.status === "POSTED") && !warned;
      const before = await snapshot();
      const got = await bookAtOnce(client, batch, fresh ? new Map() : cache);
      if (everyOnePosts) {
        fast += 1;
        expect(got).not.toBeNull();
        expect(balancesOf(got!)).toEqual(balancesOf(expected));
        booked.push(...batch);
      } else {
        careful += 1;
        expect(got).toBeNull();
        expect(await snapshot()).toBe(before);
      }
      expect(await violations(t.p)).toEqual([]);
    }),
    { numRuns: 100 },
  );
  // Both outcomes were exercised: each comes about half the time (one leg in 7 is a replay, one in 4 warns).
  expect(fast).toBeGreaterThan(10);
  expect(careful).toBeGreaterThan(10);
  // Both forms of the statement ran: accounts known by id, and accounts resolved inside the statement.
  const { rows } = await client.query("SELECT name FROM pg_prepared_statements WHERE name LIKE 'ledger_at_once%'");
  expect(rows.map((r) => r.name).sort()).toEqual(["ledger_at_once_known_v1", "ledger_at_once_v6"]);
});

describe("the one statement writes what the careful path writes", () => {
  test("entries, numbers, counterparties, times and references", async () => {
    const m = await quickMember(t.p.db);
    const c = await quickClub(t.p.db);
    await fundMember(t.p, m.id, 10_000n, admin.id);
    const member = await t.p.accounts.forUser(m.id);
    const club = await t.p.accounts.forOrganisation(c.id);
    const batch = [
      pay({ userId: m.id }, { organisationId: c.id }, 2_500n),
      pay({ userId: m.id }, { organisationId: c.id }, 500n),
    ];
    const r = await bookAtOnce(client, batch, new Map());
    expect(r).toEqual([
      {
        status: "POSTED",
        postingId: expect.any(BigInt),
        balances: [
          { accountId: member, balanceAfterCents: 7_500n },
          { accountId: club, balanceAfterCents: 2_500n },
        ],
      },
      {
        status: "POSTED",
        postingId: expect.any(BigInt),
        balances: [
          { accountId: member, balanceAfterCents: 7_000n },
          { accountId: club, balanceAfterCents: 3_000n },
        ],
      },
    ]);
    const entries = await t.p.db.entry.findMany({ where: { accountId: member }, orderBy: { entryNo: "asc" } });
    expect(
      entries.map((e) => [e.entryNo, e.amountCents, e.balanceAfterCents, e.type, e.counterpartyAccountId]),
    ).toEqual([
      [1, 10_000n, 10_000n, "Manual Adjustment", expect.any(Number)],
      [2, -2_500n, 7_500n, "Club Payment", club],
      [3, -500n, 7_000n, "Club Payment", club],
    ]);
    const postings = await t.p.db.posting.findMany({
      where: { idempotencyKey: { in: batch.map((p) => p.idempotencyKey) } },
    });
    expect(postings).toHaveLength(2);
    for (const p of postings) {
      expect(p.referenceNo).toMatch(/^[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}$/);
      const mine = entries.find((e) => e.postingId === p.id)!;
      expect(mine.createdAt).toEqual(p.createdAt);
    }
    const acct = await t.p.db.account.findUniqueOrThrow({ where: { id: club } });
    expect([acct.balanceCents, acct.entryCount]).toEqual([3_000n, 2]);
  });
});

/** Every account by the keys the engine remembers them by, as a warmed-up engine would know them. */
async function knownAccounts() {
  const rows = await t.p.db.$queryRaw<
    { id: number; user_id: number | null; organisation_id: number | null; system_code: string | null }[]
  >`SELECT id, user_id, organisation_id, system_code FROM accounts`;
  const known = new Map<string, number>();
  for (const r of rows) {
    known.set(r.user_id ? `u${r.user_id}` : r.organisation_id ? `o${r.organisation_id}` : `s${r.system_code}`, r.id);
  }
  return known;
}

// The statement has two forms (accounts resolved inside it, or all known by id): each must hold every rule.
describe.each([
  ["named by member and club, resolved in the statement", async () => new Map<string, number>()],
  ["known by id", knownAccounts],
])("accounts %s", (form, accountsFor) => {
  test("boundaries: the whole balance may be paid and a warning fires only below its threshold", async () => {
    const m = await quickMember(t.p.db);
    const c = await quickClub(t.p.db);
    await fundMember(t.p, m.id, 3_000n, admin.id);
    const before = await snapshot();
    expect(
      await bookAtOnce(client, [pay({ userId: m.id }, { organisationId: c.id }, 3_001n)], await accountsFor()),
    ).toBeNull();
    expect(await snapshot()).toBe(before);
    // Ends exactly at the $20 threshold: not below it, so no warning and nothing in the way.
    const atThreshold = warnBelow(pay({ userId: m.id }, { organisationId: c.id }, 1_000n), m.id, 2_000n);
    expect(await bookAtOnce(client, [atThreshold], await accountsFor())).not.toBeNull();
    const all = await bookAtOnce(
      client,
      [pay({ userId: m.id }, { organisationId: c.id }, 2_000n)],
      await accountsFor(),
    );
    expect(all?.[0]).toMatchObject({ status: "POSTED", balances: [{ balanceAfterCents: 0n }, {}] });
  });

  describe("batches the one statement leaves to the careful path, having written nothing", () => {
    let m: { id: number };
    let c: { id: number };
    beforeEach(async () => {
      m = await quickMember(t.p.db);
      c = await quickClub(t.p.db);
      await fundMember(t.p, m.id, 1_000n, admin.id);
    });

    const untouched = async (batch: PostingInput[]) => {
      const before = await snapshot();
      expect(await bookAtOnce(client, batch, await accountsFor())).toBeNull();
      expect(await snapshot()).toBe(before);
    };

    test("a debit the balance cannot cover, even when a later credit would", async () => {
      const other = await quickMember(t.p.db);
      await fundMember(t.p, other.id, 5_000n, admin.id);
      await untouched([
        pay({ userId: m.id }, { organisationId: c.id }, 1_500n),
        pay({ userId: other.id }, { userId: m.id }, 4_000n),
      ]);
    });

    test("a key booked before (a replay)", async () => {
      const p = pay({ userId: m.id }, { organisationId: c.id }, 100n);
      expect(await bookAtOnce(client, [p], await accountsFor())).not.toBeNull();
      await untouched([p]);
      await untouched([pay({ userId: m.id }, { organisationId: c.id }, 100n), p]);
    });

    test("a low-balance warning that would be sent (one that would not is no obstacle)", async () => {
      await untouched([warnBelow(pay({ userId: m.id }, { organisationId: c.id }, 100n), m.id, 2_000n)]);
      const quiet = warnBelow(pay({ userId: m.id }, { organisationId: c.id }, 100n), m.id, 500n);
      expect(await bookAtOnce(client, [quiet], await accountsFor())).not.toBeNull();
    });

    test("a member or account that does not exist", async () => {
      await untouched([pay({ userId: 2_000_000_000 }, { organisationId: c.id }, 100n)]);
      await untouched([
        {
          ...pay({ userId: m.id }, { organisationId: c.id }, 100n),
          entries: [
            { userId: m.id, amountCents: -100n },
            { accountId: 2_000_000_000, amountCents: 100n },
          ],
        },
      ]);
    });

    test("one account named two ways in one batch (by member and by account id)", async () => {
      const account = await t.p.accounts.forUser(m.id);
      const plain = pay({ userId: m.id }, { organisationId: c.id }, 100n);
      const byId: PostingInput = {
        ...plain,
        entries: [{ accountId: account, amountCents: -100n, counterparty: 1 }, plain.entries[1]!],
      };
      const batch = [pay({ userId: m.id }, { organisationId: c.id }, 100n), byId];
      if (form !== "known by id") return untouched(batch);
      // Known, both names are the same account id: one member paying twice, booked as such.
      const r = await bookAtOnce(client, batch, await accountsFor());
      expect(r?.map((x) => x.status === "POSTED" && x.balances[0]!.balanceAfterCents)).toEqual([900n, 800n]);
    });

    test("an approved overdraft, a repeated key, an invalid posting", async () => {
      const p = pay({ userId: m.id }, { organisationId: c.id }, 100n);
      await untouched([{ ...p, allowOverdraft: true }]);
      await untouched([p, p]);
      await untouched([{ ...p, description: " " }]);
    });
  });
});

test("the engine takes the one statement for ordinary batches and the careful path for the rest", async () => {
  const m = await quickMember(t.p.db);
  const c = await quickClub(t.p.db);
  await fundMember(t.p, m.id, 1_000n, admin.id);
  const payments = (n: number) =>
    Promise.all(
      Array.from({ length: n }, () => t.p.ledger.post(pay({ userId: m.id }, { organisationId: c.id }, 100n))),
    );
  const before = { ...t.p.ledger.stats };
  expect((await payments(5)).every((r) => r.status === "POSTED")).toBe(true);
  const ordinary = { ...t.p.ledger.stats };
  expect(ordinary.batches).toBeGreaterThan(before.batches);
  expect(ordinary.atOnce - before.atOnce).toBe(ordinary.batches - before.batches);
  // $5 left: of ten $1 payments exactly five succeed, and the batches with a refusal went the careful way.
  const mixed = await payments(10);
  expect(mixed.filter((r) => r.status === "POSTED")).toHaveLength(5);
  expect(mixed.filter((r) => r.status === "INSUFFICIENT_FUNDS")).toHaveLength(5);
  const after = t.p.ledger.stats;
  expect(after.atOnce - ordinary.atOnce).toBeLessThan(after.batches - ordinary.batches);
});
