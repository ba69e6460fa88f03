-- One posting, one type: every entry shows its posting's type. Club-to-member transfers used to write their club
-- side as 'Member Transfer' (the original's habit, reference §1.1) and their member side as 'Org Transfer', so the
-- same posting had two names on the two statements. The engine now writes the posting's type on every entry;
-- this corrects the entries written before. Entries are append-only, so the guard is lifted for this one
-- statement only (Prisma sends this file as one query, which PostgreSQL runs as one transaction, and DISABLE
-- TRIGGER holds the table's exclusive lock until it ends), and the only column changed is the shown type.
ALTER TABLE entries DISABLE TRIGGER entries_append_only;
UPDATE entries e SET type = p.type FROM postings p WHERE p.id = e.posting_id AND e.type <> p.type;
ALTER TABLE entries ENABLE TRIGGER entries_append_only;

-- The invariants check gains the rule.
CREATE OR REPLACE FUNCTION ledger_violations() RETURNS TABLE (rule text, subject text) LANGUAGE sql STABLE AS $$
  SELECT 'posting does not sum to zero', posting_id::text FROM entries GROUP BY posting_id HAVING sum(amount_cents) <> 0
  UNION ALL
  SELECT 'posting has fewer than two entries', p.id::text FROM postings p
   WHERE (SELECT count(*) FROM entries e WHERE e.posting_id = p.id) < 2
  UNION ALL
  SELECT 'balance is not the sum of entries', a.id::text FROM accounts a
    LEFT JOIN (SELECT account_id, sum(amount_cents) s, count(*) c, max(entry_no) m FROM entries GROUP BY account_id) e
      ON e.account_id = a.id
   WHERE a.balance_cents <> coalesce(e.s, 0) OR a.entry_count <> coalesce(e.c, 0) OR a.entry_count <> coalesce(e.m, 0)
  UNION ALL
  SELECT 'running balance breaks', account_id::text || '#' || entry_no::text FROM (
    SELECT account_id, entry_no, amount_cents, balance_after_cents,
           lag(balance_after_cents, 1, 0::bigint) OVER (PARTITION BY account_id ORDER BY entry_no) AS prev,
           lag(entry_no, 1, 0) OVER (PARTITION BY account_id ORDER BY entry_no) AS prev_no
      FROM entries) t
   WHERE balance_after_cents <> prev + amount_cents OR entry_no <> prev_no + 1
  UNION ALL
  SELECT 'entry without its posting', e.posting_id::text FROM entries e
   WHERE NOT EXISTS (SELECT 1 FROM postings p WHERE p.id = e.posting_id)
  UNION ALL
  SELECT 'entry type differs from its posting''s', e.account_id::text || '#' || e.entry_no::text
    FROM entries e JOIN postings p ON p.id = e.posting_id
   WHERE e.type <> p.type
  UNION ALL
  SELECT 'entry on an unknown account', e.account_id::text || '#' || e.entry_no::text FROM entries e
   WHERE NOT EXISTS (SELECT 1 FROM accounts a WHERE a.id = e.account_id)
      OR (e.counterparty_account_id IS NOT NULL
          AND NOT EXISTS (SELECT 1 FROM accounts a WHERE a.id = e.counterparty_account_id))
  UNION ALL
  SELECT 'balances do not sum to zero', sum(balance_cents)::text FROM accounts HAVING sum(balance_cents) <> 0
  UNION ALL
  SELECT 'member or club below zero without an approved overdraft', a.id::text FROM accounts a
   WHERE a.kind <> 'SYSTEM' AND a.balance_cents < 0
     AND NOT EXISTS (SELECT 1 FROM entries e JOIN postings p ON p.id = e.posting_id
                      WHERE e.account_id = a.id AND p.allow_overdraft AND e.amount_cents < 0)
$$;
