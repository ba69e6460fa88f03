-- The transaction type of postings and entries is checked by a domain instead of a CHECK on each table. Both
-- hold the same rule (the vocabulary of reference §1.1, also in src/services/ledger/transaction-types.ts; a test
-- keeps the two equal), but PostgreSQL reads a table CHECK's stored expression back from text for every
-- statement that writes the table, and a 17-string array constant made that a visible part of every batch of
-- payments. A domain's check is read once per connection and cached.
CREATE DOMAIN ledger_type AS text CONSTRAINT ledger_type_known CHECK (VALUE = ANY (ARRAY['Transfer Out',
  'Transfer In', 'Auto Top Up', 'Manual Top Up', 'Club Top Up', 'Club Top Up Rev', 'Entry to an event',
  'CC Payment', 'Club Payment', 'Club Membership', 'Member Transfer', 'Miscellaneous', 'Settlement',
  'Manual Adjustment', 'Org Transfer', 'Refund', 'Card Refund']));

ALTER TABLE postings DROP CONSTRAINT postings_type_chk;
ALTER TABLE entries DROP CONSTRAINT entries_type_chk;
-- Same base type: the rows are checked against the domain, not rewritten.
ALTER TABLE postings ALTER COLUMN type TYPE ledger_type;
ALTER TABLE entries ALTER COLUMN type TYPE ledger_type;
