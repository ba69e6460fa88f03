-- Settlement batches have a life (created → file downloaded → submitted to the bank → paid, lines returned by the
-- bank), and the ledger has an accounting export (issue 20, items 1 and 4).

-- The federation's own bank account: "mark paid" clears the settlements payable into it, a line the bank returns
-- comes back out of it. Like CARD_FUNDS it reads as −(money the federation holds).
INSERT INTO accounts (kind, system_code) VALUES ('SYSTEM', 'FEDERATION_BANK');

ALTER TABLE settlement_batches
  ADD COLUMN status TEXT NOT NULL DEFAULT 'CREATED',
  ADD COLUMN downloaded_at TIMESTAMPTZ(6),
  ADD COLUMN downloaded_by_user_id INTEGER,
  ADD COLUMN submitted_at TIMESTAMPTZ(6),
  ADD COLUMN submitted_by_user_id INTEGER,
  ADD COLUMN paid_at TIMESTAMPTZ(6),
  ADD COLUMN paid_by_user_id INTEGER,
  ADD COLUMN paid_posting_id BIGINT,
  ADD CONSTRAINT settlement_batches_status CHECK (status IN ('CREATED', 'DOWNLOADED', 'SUBMITTED', 'PAID')),
  -- Each state carries who and when, and the steps happen in order.
  ADD CONSTRAINT settlement_batches_steps CHECK (
    (status = 'CREATED' OR (downloaded_at IS NOT NULL AND downloaded_by_user_id IS NOT NULL)) AND
    (status NOT IN ('SUBMITTED', 'PAID') OR (submitted_at IS NOT NULL AND submitted_by_user_id IS NOT NULL)) AND
    (status <> 'PAID' OR (paid_at IS NOT NULL AND paid_by_user_id IS NOT NULL AND paid_posting_id IS NOT NULL)));
-- Batches made before this migration were downloaded and paid outside the system as far as anyone knows; they
-- stay CREATED, so their payable shows as not yet paid until finance marks them.

ALTER TABLE settlements
  ADD COLUMN returned_at TIMESTAMPTZ(6),
  ADD COLUMN returned_by_user_id INTEGER,
  ADD COLUMN return_reason TEXT,
  ADD COLUMN return_posting_id BIGINT,
  ADD CONSTRAINT settlements_returned CHECK ((returned_at IS NULL) = (return_posting_id IS NULL)
                                             AND (returned_at IS NULL) = (returned_by_user_id IS NULL));

-- A club whose settlement the bank returned: its bank details need fixing. Cleared by any change of them.
ALTER TABLE organisations
  ADD COLUMN bank_details_flag TEXT,
  ADD COLUMN bank_details_flagged_at TIMESTAMPTZ(6);
CREATE FUNCTION organisations_bank_flag_clear() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.bank_bsb IS DISTINCT FROM OLD.bank_bsb OR NEW.bank_account IS DISTINCT FROM OLD.bank_account THEN
    NEW.bank_details_flag := NULL;
    NEW.bank_details_flagged_at := NULL;
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER organisations_bank_flag_clear BEFORE UPDATE OF bank_bsb, bank_account ON organisations
  FOR EACH ROW EXECUTE FUNCTION organisations_bank_flag_clear();

-- Every lifecycle step, with who and when; the request key makes the same confirmed form act once.
CREATE TABLE settlement_batch_steps (
  id SERIAL PRIMARY KEY,
  batch_id INTEGER NOT NULL REFERENCES settlement_batches(id) ON DELETE RESTRICT,
  settlement_id INTEGER REFERENCES settlements(id) ON DELETE RESTRICT,
  step TEXT NOT NULL CHECK (step IN ('DOWNLOADED', 'SUBMITTED', 'PAID', 'RETURNED')),
  request_key TEXT UNIQUE,
  actor_user_id INTEGER NOT NULL,
  note TEXT,
  created_at TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX settlement_batch_steps_batch_id_idx ON settlement_batch_steps(batch_id);

-- The chart-of-accounts mapping: a ledger account (MEMBER, ORGANISATION or SYSTEM:<code>), optionally one
-- transaction type of it ('*' = any), to the federation's account code and tax rate.
CREATE TABLE accounting_mappings (
  id SERIAL PRIMARY KEY,
  ledger_account TEXT NOT NULL CHECK (ledger_account ~ '^(MEMBER|ORGANISATION|SYSTEM:[A-Z0-9_]+)$'),
  transaction_type TEXT NOT NULL DEFAULT '*',
  account_code TEXT NOT NULL CHECK (account_code ~ '^[A-Za-z0-9.\-]{1,20}$'),
  tax_rate_name TEXT NOT NULL CHECK (length(tax_rate_name) BETWEEN 1 AND 60),
  -- Tax included in the amounts, in parts per million (100000 = GST 10 %); 0 = none.
  tax_ppm INTEGER NOT NULL DEFAULT 0 CHECK (tax_ppm BETWEEN 0 AND 1000000),
  updated_by_user_id INTEGER,
  updated_at TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
  UNIQUE (ledger_account, transaction_type)
);

-- What was exported, for which period, by whom: a second export of an overlapping period must be asked for.
CREATE TABLE accounting_exports (
  id SERIAL PRIMARY KEY,
  kind TEXT NOT NULL CHECK (kind IN ('JOURNAL', 'BILLS', 'SALES_INVOICES')),
  format TEXT NOT NULL,
  period_from DATE NOT NULL,
  period_to DATE NOT NULL,
  request_key TEXT NOT NULL UNIQUE,
  reexport BOOLEAN NOT NULL DEFAULT false,
  line_count INTEGER NOT NULL,
  total_cents BIGINT NOT NULL,
  exported_by_user_id INTEGER NOT NULL,
  exported_at TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
  CHECK (period_from <= period_to)
);
CREATE INDEX accounting_exports_kind_period_idx ON accounting_exports(kind, period_from, period_to);

-- A starting chart (a common Australian small-organisation layout); finance changes it on the mapping page.
INSERT INTO accounting_mappings (ledger_account, account_code, tax_rate_name, tax_ppm) VALUES
  ('MEMBER', '2100', 'BAS Excluded', 0),
  ('ORGANISATION', '2110', 'BAS Excluded', 0),
  ('SYSTEM:CARD_FUNDS', '1210', 'BAS Excluded', 0),
  ('SYSTEM:FEE_INCOME', '4100', 'GST on Income', 100000),
  ('SYSTEM:SETTLEMENTS_PAYABLE', '2120', 'BAS Excluded', 0),
  ('SYSTEM:ADJUSTMENTS', '3900', 'BAS Excluded', 0),
  ('SYSTEM:FEDERATION_BANK', '1200', 'BAS Excluded', 0);
