// The posting engine and the database's own guards.
import { TRANSACTION_TYPES } from "../../src/services/ledger/transaction-types";
import { makeClub, makeUser } from "../helpers/app";
import { fundMember, key, startPayments, type TestPayments, violations } from "../helpers/payments";

let t: TestPayments;
let admin: { id: number };
beforeAll(async () => {
  t = await startPayments();
  admin = await makeUser(t.p.db, { level: "EDIT" });
});
afterAll(() => t.close());
afterEach(async () => expect(await violations(t.p)).toEqual([]));

async function accounts() {
  const m = await makeUser(t.p.db);
  const c = await makeClub(t.p.db);
  return {
    member: await t.p.accounts.forUser(m.id),
    club: await t.p.accounts.forOrganisation(c.id),
    userId: m.id,
  };
}

const pay = (from: number, to: number, cents: bigint, k = key()) =>
  t.p.ledger.post({
    idempotencyKey: k,
    type: "Club Payment",
    description: "Session fee",
    entries: [
      { accountId: from, amountCents: -cents, counterparty: 1 },
      { accountId: to, amountCents: cents, counterparty: 0 },
    ],
  });

describe("posting engine", () => {
  test("books entries with running balances and per-account entry numbers", async () => {
    const a = await accounts();
    await fundMember(t.p, a.userId, 10_000n, admin.id);
    const r = await pay(a.member, a.club, 2_550n);
    expect(r.status).toBe("POSTED");
    const entries = await t.p.db.entry.findMany({ where: { accountId: a.member }, orderBy: { entryNo: "asc" } });
    expect(entries.map((e) => [e.entryNo, e.amountCents, e.balanceAfterCents, e.type])).toEqual([
      [1, 10_000n, 10_000n, "Manual Adjustment"],
      [2, -2_550n, 7_450n, "Club Payment"],
    ]);
    expect(entries[1]!.counterpartyAccountId).toBe(a.club);
    const posting = await t.p.db.posting.findUniqueOrThrow({ where: { id: entries[1]!.postingId } });
    expect(posting.referenceNo).toMatch(/^[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}$/);
  });

  test("refuses to overdraw, under the lock, and changes nothing", async () => {
    const a = await accounts();
    await fundMember(t.p, a.userId, 1_000n, admin.id);
    const r = await pay(a.member, a.club, 1_001n);
    expect(r).toEqual({
      status: "INSUFFICIENT_FUNDS",
      entryIndex: 0,
      accountId: a.member,
      balanceCents: 1_000n,
      amountCents: 1_001n,
    });
    expect(await t.p.db.entry.count({ where: { accountId: a.club } })).toBe(0);
    expect((await pay(a.member, a.club, 1_000n)).status).toBe("POSTED"); // exactly the balance is fine
  });

  test("the same key twice books once and replays the first result; a different request with it is refused", async () => {
    const a = await accounts();
    await fundMember(t.p, a.userId, 5_000n, admin.id);
    const k = key();
    const first = await pay(a.member, a.club, 1_000n, k);
    const again = await pay(a.member, a.club, 1_000n, k);
    expect(first.status).toBe("POSTED");
    expect(again).toEqual({ status: "DUPLICATE", postingId: (first as { postingId: bigint }).postingId });
    expect((await pay(a.member, a.club, 999n, k)).status).toBe("KEY_REUSED");
    expect(await t.p.db.posting.count({ where: { idempotencyKey: k } })).toBe(1);
    expect((await t.p.db.account.findUniqueOrThrow({ where: { id: a.member } })).balanceCents).toBe(4_000n);
  });

  test("concurrent replays of one key book once", async () => {
    const a = await accounts();
    await fundMember(t.p, a.userId, 5_000n, admin.id);
    const k = key();
    const results = await Promise.all(Array.from({ length: 20 }, () => pay(a.member, a.club, 700n, k)));
    expect(results.filter((r) => r.status === "POSTED")).toHaveLength(1);
    expect(results.filter((r) => r.status === "DUPLICATE")).toHaveLength(19);
    const ids = new Set(results.map((r) => String((r as { postingId: bigint }).postingId)));
    expect(ids.size).toBe(1);
    expect((await t.p.db.account.findUniqueOrThrow({ where: { id: a.member } })).balanceCents).toBe(4_300n);
  });

  test("invalid postings are refused with a reason and book nothing", async () => {
    const a = await accounts();
    const before = await t.p.db.entry.count();
    const bad = [
      { entries: [{ accountId: a.member, amountCents: 100n }] },
      {
        entries: [
          { accountId: a.member, amountCents: 100n },
          { accountId: a.club, amountCents: -99n },
        ],
      },
      {
        entries: [
          { accountId: a.member, amountCents: 0n },
          { accountId: a.club, amountCents: 0n },
        ],
      },
      {
        entries: [
          { accountId: 999_999, amountCents: 5n },
          { accountId: a.club, amountCents: -5n },
        ],
      },
    ];
    for (const b of bad) {
      const r = await t.p.ledger.post({ idempotencyKey: key(), type: "Miscellaneous", description: "x", ...b });
      expect(r.status).toBe("INVALID");
    }
    const wrongType = await t.p.ledger.post({
      idempotencyKey: key(),
      // biome-ignore lint/suspicious/noExplicitAny: deliberately wrong input
      type: "Congress Entry" as any,
      description: "x",
      entries: [
        { accountId: a.club, amountCents: 5n },
        { accountId: a.member, amountCents: -5n },
      ],
    });
    expect(wrongType).toEqual({ status: "INVALID", reason: "unknown transaction type Congress Entry" });
    expect(await t.p.db.entry.count()).toBe(before);
  });

  test("one batch of many postings: each succeeds or fails on its own", async () => {
    const a = await accounts();
    await fundMember(t.p, a.userId, 1_000n, admin.id);
    // 15 payments of $1 against $10: exactly 10 succeed, whichever batch they land in.
    const results = await Promise.all(Array.from({ length: 15 }, () => pay(a.member, a.club, 100n)));
    expect(results.filter((r) => r.status === "POSTED")).toHaveLength(10);
    expect(results.filter((r) => r.status === "INSUFFICIENT_FUNDS")).toHaveLength(5);
    const club = await t.p.db.account.findUniqueOrThrow({ where: { id: a.club } });
    expect([club.balanceCents, club.entryCount]).toEqual([1_000n, 10]);
  });
});

test("after a burst, no connection is left with a transaction open", async () => {
  const a = await accounts();
  await fundMember(t.p, a.userId, 100_000n, admin.id);
  // Bursts of different sizes end in different orders of the engine's two connections.
  for (const size of [3, 9, 17, 40, 64, 65, 100]) {
    await Promise.all(Array.from({ length: size }, () => pay(a.member, a.club, 1n)));
    await new Promise((r) => setTimeout(r, 20));
    const rows = await t.p.db.$queryRaw<{ n: number }[]>`
      SELECT count(*)::int AS n FROM pg_stat_activity
       WHERE datname = current_database() AND state LIKE 'idle in transaction%'`;
    expect({ size, open: rows[0]!.n }).toEqual({ size, open: 0 });
  }
});

test("account pages keep room for balance updates, and those updates stay HOT (no index changes)", async () => {
  const [table] = await t.p.db.$queryRaw<{ options: string[] | null }[]>`
    SELECT reloptions AS options FROM pg_class WHERE oid = 'accounts'::regclass`;
  expect(table!.options).toContain("fillfactor=20");
  // No index may cover a column a posting changes, or every balance update would write index entries too.
  const indexed = await t.p.db.$queryRaw<{ column: string }[]>`
    SELECT DISTINCT a.attname::text AS column
      FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
     WHERE i.indrelid = 'accounts'::regclass`;
  const columns = indexed.map((r) => r.column);
  expect(columns).toContain("id");
  expect(columns).not.toContain("balance_cents");
  expect(columns).not.toContain("entry_count");
});

describe("database guards (they hold even against code that bypasses the engine)", () => {
  test("entries are append-only", async () => {
    const a = await accounts();
    await fundMember(t.p, a.userId, 1_000n, admin.id);
    await expect(
      t.p.db.$executeRaw`UPDATE entries SET amount_cents = 1 WHERE account_id = ${a.member}`,
    ).rejects.toThrow(/append-only/);
    await expect(t.p.db.$executeRaw`DELETE FROM postings`).rejects.toThrow(/append-only/);
  });

  test("entries that do not sum to zero are refused", async () => {
    const a = await accounts();
    await expect(
      t.p.db.$executeRaw`
        WITH p AS (INSERT INTO postings (idempotency_key, request_hash, type, description, reference_no)
                   VALUES (${key()}, 'x', 'Miscellaneous', 'forged', 'X') RETURNING id)
        INSERT INTO entries (posting_id, account_id, entry_no, amount_cents, balance_after_cents, type)
        SELECT p.id, ${a.club}, 1, 500, 500, 'Miscellaneous' FROM p`,
    ).rejects.toThrow(/does not sum to zero/);
  });

  test("a member's balance cannot be pushed below zero without an approved overdraft", async () => {
    const a = await accounts();
    await expect(t.p.db.$executeRaw`UPDATE accounts SET balance_cents = -1 WHERE id = ${a.member}`).rejects.toThrow(
      /insufficient funds/,
    );
    await expect(
      t.p.db.$executeRaw`INSERT INTO accounts (kind, system_code, balance_cents) VALUES ('SYSTEM', 'X', 5)`,
    ).rejects.toThrow(/open empty/);
  });

  test("postings and entries take exactly the transaction types the code knows", async () => {
    const cols = await t.p.db.$queryRaw<{ table: string; domain: string }[]>`
      SELECT table_name::text AS table, domain_name::text AS domain FROM information_schema.columns
       WHERE table_name IN ('postings', 'entries') AND column_name = 'type' ORDER BY table_name`;
    expect(cols).toEqual([
      { table: "entries", domain: "ledger_type" },
      { table: "postings", domain: "ledger_type" },
    ]);
    const [check] = await t.p.db.$queryRaw<{ def: string }[]>`
      SELECT pg_get_constraintdef(c.oid) AS def FROM pg_constraint c JOIN pg_type ty ON ty.oid = c.contypid
       WHERE ty.typname = 'ledger_type'`;
    const listed = [...check!.def.matchAll(/'([^']+)'::text/g)].map((m) => m[1]);
    expect(listed.sort()).toEqual([...TRANSACTION_TYPES].sort());
    await expect(
      t.p.db.$executeRaw`INSERT INTO postings (idempotency_key, request_hash, type, description, reference_no)
                         VALUES ('bad-type', 'x', 'Club Paymnet', 'a', 'A')`,
    ).rejects.toThrow(/ledger_type/);
  });

  test("an account belongs to exactly the one owner its kind names, when opened and ever after", async () => {
    const a = await accounts();
    await expect(
      t.p.db.$executeRaw`INSERT INTO accounts (kind, system_code) VALUES ('MEMBER', 'NOT_A_MEMBER')`,
    ).rejects.toThrow(/exactly the one owner/);
    await expect(t.p.db.$executeRaw`UPDATE accounts SET system_code = 'ALSO' WHERE id = ${a.member}`).rejects.toThrow(
      /exactly the one owner/,
    );
    await expect(t.p.db.$executeRaw`UPDATE accounts SET kind = 'SYSTEM' WHERE id = ${a.member}`).rejects.toThrow(
      /exactly the one owner/,
    );
    await expect(
      t.p.db.$executeRaw`INSERT INTO accounts (kind, system_code) VALUES ('SYSTEM', 'A_NEW_ROLE')`,
    ).resolves.toBe(1);
  });

  test("idempotency keys are 1 to 200 characters", async () => {
    const insert = (k: string) =>
      t.p.db.$executeRaw`INSERT INTO postings (idempotency_key, request_hash, type, description, reference_no)
                         VALUES (${k}, 'x', 'Miscellaneous', 'a', 'A')`;
    await expect(insert("")).rejects.toThrow(/ledger_key/);
    await expect(insert("k".repeat(201))).rejects.toThrow(/ledger_key/);
  });

  test("idempotency keys are unique in the database", async () => {
    await expect(
      t.p.db.$executeRaw`INSERT INTO postings (idempotency_key, request_hash, type, description, reference_no)
                         VALUES ('dup', 'x', 'Miscellaneous', 'a', 'A'), ('dup', 'y', 'Miscellaneous', 'b', 'B')`,
    ).rejects.toThrow(/unique/i);
  });

  test("an administrator's adjustment may take a member below zero, and says so", async () => {
    const a = await accounts();
    await fundMember(t.p, a.userId, -500n, admin.id);
    const acct = await t.p.db.account.findUniqueOrThrow({ where: { id: a.member } });
    expect(acct.balanceCents).toBe(-500n);
    const entry = await t.p.db.entry.findFirstOrThrow({ where: { accountId: a.member } });
    const posting = await t.p.db.posting.findUniqueOrThrow({ where: { id: entry.postingId } });
    expect(posting).toMatchObject({ allowOverdraft: true, actorUserId: admin.id, type: "Manual Adjustment" });
    // …but an ordinary payment still cannot take it further down.
    expect((await pay(a.member, a.club, 1n)).status).toBe("INSUFFICIENT_FUNDS");
  });
});

describe("the invariant check itself", () => {
  test("reports a forged running balance, an unbalanced posting and a wrong account balance", async () => {
    const a = await accounts();
    await fundMember(t.p, a.userId, 1_000n, admin.id);
    const c = await t.database.pool.connect();
    try {
      await c.query("BEGIN");
      await c.query("SET LOCAL session_replication_role = replica"); // switch the guards off, inside this transaction only
      await c.query("UPDATE entries SET balance_after_cents = balance_after_cents + 1 WHERE account_id = $1", [
        a.member,
      ]);
      await c.query("UPDATE entries SET amount_cents = amount_cents + 5 WHERE account_id = $1", [a.member]);
      await c.query("UPDATE accounts SET balance_cents = balance_cents + 7 WHERE id = $1", [a.member]);
      const { rows } = await c.query("SELECT rule FROM ledger_violations()");
      expect(rows.map((r) => r.rule).sort()).toEqual(
        [
          "balance is not the sum of entries",
          "balances do not sum to zero",
          "posting does not sum to zero",
          "running balance breaks",
        ].sort(),
      );
    } finally {
      await c.query("ROLLBACK");
      c.release();
    }
  });
});
