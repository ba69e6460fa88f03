-- The transaction-type checks on postings and entries name the vocabulary directly instead of calling
-- ledger_type_ok(). A CHECK that calls an SQL function has that function's body parsed and planned again for
-- every statement that writes the table (PostgreSQL inlines it afresh each time), a measurable part of every
-- posting. The vocabulary is unchanged (reference §1.1); the function is dropped, so the list lives here and in
-- src/services/ledger/transaction-types.ts, and a test checks that the two agree.
ALTER TABLE postings DROP CONSTRAINT postings_type_chk;
ALTER TABLE entries DROP CONSTRAINT entries_type_chk;

DROP FUNCTION ledger_type_ok(text);

ALTER TABLE postings ADD CONSTRAINT postings_type_chk CHECK (type = ANY (ARRAY['Transfer Out', 'Transfer In',
  'Auto Top Up', 'Manual Top Up', 'Club Top Up', 'Club Top Up Rev', 'Entry to an event', 'CC Payment',
  'Club Payment', 'Club Membership', 'Member Transfer', 'Miscellaneous', 'Settlement', 'Manual Adjustment',
  'Org Transfer', 'Refund', 'Card Refund']));
ALTER TABLE entries ADD CONSTRAINT entries_type_chk CHECK (type = ANY (ARRAY['Transfer Out', 'Transfer In',
  'Auto Top Up', 'Manual Top Up', 'Club Top Up', 'Club Top Up Rev', 'Entry to an event', 'CC Payment',
  'Club Payment', 'Club Membership', 'Member Transfer', 'Miscellaneous', 'Settlement', 'Manual Adjustment',
  'Org Transfer', 'Refund', 'Card Refund']));
