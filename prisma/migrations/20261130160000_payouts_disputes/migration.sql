-- Stripe payouts and card disputes in the ledger (issue 20, items 2 and 3). See docs/stripe.md, "Payouts" and
-- "Disputes".

-- Two system accounts. STRIPE_FEES: what Stripe kept of card payments (booked per payout from its balance
-- transactions); an expense, so it reads as −(fees paid). DISPUTES: money Stripe withdrew for disputes with their
-- dispute fees, less what was taken back from members; −(the federation's open loss on disputes).
INSERT INTO accounts (kind, system_code) VALUES ('SYSTEM', 'STRIPE_FEES'), ('SYSTEM', 'DISPUTES');

-- Four transaction types beyond the original's vocabulary (§1.1). A domain's check cannot be altered in place:
-- it is dropped and added again with the longer list (existing rows are checked against it).
ALTER DOMAIN ledger_type DROP CONSTRAINT ledger_type_known;
ALTER DOMAIN ledger_type ADD CONSTRAINT ledger_type_known CHECK (VALUE = ANY (ARRAY['Transfer Out',
  'Transfer In', 'Auto Top Up', 'Manual Top Up', 'Club Top Up', 'Club Top Up Rev', 'Entry to an event',
  'CC Payment', 'Club Payment', 'Club Membership', 'Member Transfer', 'Miscellaneous', 'Settlement',
  'Manual Adjustment', 'Org Transfer', 'Refund', 'Card Refund', 'Stripe Payout', 'Stripe Fee', 'Card Dispute',
  'Card Dispute Reversal']));

-- One row per Stripe payout we have seen (webhook or "Check with Stripe"), with what was booked for it.
CREATE TABLE stripe_payouts (
  id TEXT PRIMARY KEY CHECK (id ~ '^po_[A-Za-z0-9]+$'),
  amount_cents BIGINT NOT NULL CHECK (amount_cents > 0),
  currency TEXT NOT NULL,
  -- Stripe's status as last seen: pending, in_transit, paid, failed, canceled.
  status TEXT NOT NULL,
  arrival_date TIMESTAMPTZ(6),
  failure_code TEXT,
  failure_message TEXT,
  -- Stripe's fees on the payments this payout carried (its balance transactions), and what our fee settings
  -- expected for them; both NULL until booked.
  fee_cents BIGINT,
  expected_fee_cents BIGINT,
  transaction_count INTEGER,
  fee_posting_id BIGINT,
  paid_posting_id BIGINT,
  failed_posting_id BIGINT,
  created_at TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
  updated_at TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
  CHECK ((fee_cents IS NULL) = (expected_fee_cents IS NULL)),
  -- A failure after payment is booked only over a booked payment.
  CHECK (failed_posting_id IS NULL OR paid_posting_id IS NOT NULL)
);

-- One row per Stripe dispute on one of our card payments.
CREATE TABLE card_disputes (
  id TEXT PRIMARY KEY CHECK (id ~ '^(dp|du)_[A-Za-z0-9]+$'),
  card_payment_id INTEGER NOT NULL REFERENCES card_payments(id) ON DELETE RESTRICT,
  user_id INTEGER NOT NULL,
  stripe_charge_id TEXT NOT NULL,
  amount_cents BIGINT NOT NULL CHECK (amount_cents > 0),
  currency TEXT NOT NULL,
  reason TEXT NOT NULL,
  -- Stripe's status as last seen: warning_needs_response, needs_response, under_review, won, lost…
  status TEXT NOT NULL,
  evidence_due_by TIMESTAMPTZ(6),
  -- Withdrawal: Stripe's fee, the credits taken back from the member, the IOU for the rest.
  fee_cents BIGINT,
  taken_cents BIGINT,
  iou_id INTEGER,
  iou_cents BIGINT,
  auto_top_up_was TEXT,
  withdrawn_at TIMESTAMPTZ(6),
  withdrawn_posting_id BIGINT,
  -- Reinstatement: what the member got back (credits taken plus any IOU already paid).
  given_back_cents BIGINT,
  -- What Stripe returned (its reinstatement's net: the amount, and the fee when Stripe gives it back).
  reinstated_cents BIGINT,
  reinstated_at TIMESTAMPTZ(6),
  reinstated_posting_id BIGINT,
  closed_at TIMESTAMPTZ(6),
  created_at TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
  updated_at TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
  CHECK ((withdrawn_at IS NULL) = (withdrawn_posting_id IS NULL)),
  CHECK (withdrawn_at IS NOT NULL OR (taken_cents IS NULL AND iou_cents IS NULL)),
  CHECK (reinstated_at IS NULL OR withdrawn_at IS NOT NULL),
  CHECK ((reinstated_at IS NULL) = (reinstated_posting_id IS NULL))
);
CREATE INDEX card_disputes_card_payment_id_idx ON card_disputes(card_payment_id);
CREATE INDEX card_disputes_created_at_idx ON card_disputes(created_at);

-- Look-ups by Stripe's charge id (a dispute names its charge).
CREATE INDEX card_payments_stripe_charge_id_idx ON card_payments(stripe_charge_id) WHERE stripe_charge_id IS NOT NULL;

-- The starting chart, continued: Stripe's fees are an expense with GST (Stripe's Australian fees include it);
-- card disputes are losses outside GST.
INSERT INTO accounting_mappings (ledger_account, account_code, tax_rate_name, tax_ppm) VALUES
  ('SYSTEM:STRIPE_FEES', '6100', 'GST on Expenses', 100000),
  ('SYSTEM:DISPUTES', '6150', 'BAS Excluded', 0);
