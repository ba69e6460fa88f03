// A member with many ledger lines, booked in one statement (for benchmarks and the export tests): far faster
// than posting them one by one, with the same rows the posting engine would write and exact balances.
import type { Database } from "../../src/db/client";

/** A member with `n` entries: one posting a minute, alternating top-ups and club payments, balances exact. */
export async function memberWithEntries(db: Database, name: string, n: number): Promise<number> {
  const { rows } = await db.pool.query<{ id: number }>(
    `INSERT INTO users (system_number, first_name, last_name, email, password_hash, updated_at)
     VALUES ((SELECT coalesce(max(system_number), 950000000) + 1 FROM users), 'Bench', $1, $1 || '@example.test', 'x', now())
     RETURNING id`,
    [name],
  );
  const userId = rows[0]!.id;
  const client = await db.pool.connect();
  try {
    await client.query("BEGIN");
    const acct = (await client.query("SELECT id FROM accounts WHERE user_id = $1", [userId])).rows[0].id as number;
    const sys = (
      await client.query(
        "SELECT id, entry_count, balance_cents::text AS balance FROM accounts WHERE system_code = 'ADJUSTMENTS' FOR UPDATE",
      )
    ).rows[0] as { id: number; entry_count: number; balance: string };
    // Line g: +1000 when g is odd, −500 when even, so the balance after line g is 250g (+500 if g is odd) ≥ 0.
    await client.query(
      `WITH lines AS (
         SELECT g, CASE WHEN g % 2 = 1 THEN 1000 ELSE -500 END AS amt,
                250 * g + CASE WHEN g % 2 = 1 THEN 750 ELSE 0 END AS bal
           FROM generate_series(1, $1::int) g),
       p AS (
         INSERT INTO postings (idempotency_key, request_hash, type, description, reference_no, created_at)
         SELECT $2 || '-' || g, 'bench', CASE WHEN amt > 0 THEN 'Manual Top Up' ELSE 'Club Payment' END,
                'Bench line ' || g, 'B' || g, now() - make_interval(mins => $1::int - g)
           FROM lines
         RETURNING id, idempotency_key, created_at)
       INSERT INTO entries (posting_id, account_id, entry_no, amount_cents, balance_after_cents, type,
                            counterparty_account_id, created_at)
       SELECT p.id, x.acct, x.no, x.amt, x.bal, x.typ, x.cp, p.created_at
         FROM lines l
         JOIN p ON p.idempotency_key = $2 || '-' || l.g
         CROSS JOIN LATERAL (VALUES
           ($3::int, l.g, l.amt::bigint, l.bal::bigint, CASE WHEN l.amt > 0 THEN 'Manual Top Up' ELSE 'Club Payment' END, $4::int),
           ($4::int, $5::int + l.g, -l.amt::bigint, $6::bigint - l.bal, CASE WHEN l.amt > 0 THEN 'Manual Top Up' ELSE 'Club Payment' END, $3::int)
         ) AS x(acct, no, amt, bal, typ, cp)`,
      [n, `bench-${name}`, acct, sys.id, sys.entry_count, sys.balance],
    );
    // Both accounts' totals, as the posting engine keeps them.
    const last = (
      await client.query("SELECT balance_after_cents::text AS b FROM entries WHERE account_id = $1 AND entry_no = $2", [
        acct,
        n,
      ])
    ).rows[0].b as string;
    await client.query("UPDATE accounts SET balance_cents = $2, entry_count = $3 WHERE id = $1", [acct, last, n]);
    await client.query(
      "UPDATE accounts SET balance_cents = balance_cents - $2::bigint, entry_count = entry_count + $3 WHERE id = $1",
      [sys.id, last, n],
    );
    await client.query("COMMIT");
  } catch (e) {
    await client.query("ROLLBACK");
    throw e;
  } finally {
    client.release();
  }
  return userId;
}
