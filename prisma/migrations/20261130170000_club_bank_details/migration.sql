-- Club bank details changed after creation (issue 19 item 4): the name on the club's bank account (the bank file
-- used the club's name; null still means that), every change with who, when, old and new values, and the
-- returned-line flag cleared by a change of the name too.
ALTER TABLE organisations ADD COLUMN bank_account_name TEXT;

CREATE OR REPLACE FUNCTION organisations_bank_flag_clear() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.bank_bsb IS DISTINCT FROM OLD.bank_bsb OR NEW.bank_account IS DISTINCT FROM OLD.bank_account
     OR NEW.bank_account_name IS DISTINCT FROM OLD.bank_account_name THEN
    NEW.bank_details_flag := NULL;
    NEW.bank_details_flagged_at := NULL;
  END IF;
  RETURN NEW;
END $$;
DROP TRIGGER organisations_bank_flag_clear ON organisations;
CREATE TRIGGER organisations_bank_flag_clear BEFORE UPDATE OF bank_bsb, bank_account, bank_account_name
  ON organisations FOR EACH ROW EXECUTE FUNCTION organisations_bank_flag_clear();

CREATE TABLE organisation_bank_changes (
  id SERIAL PRIMARY KEY,
  organisation_id INTEGER NOT NULL REFERENCES organisations(id) ON DELETE RESTRICT,
  -- The confirming form's id (or the CLI run's): the same confirmation sent twice changes once.
  request_key TEXT NOT NULL UNIQUE,
  changed_by_user_id INTEGER REFERENCES users(id) ON DELETE RESTRICT,
  source TEXT NOT NULL CHECK (source IN ('web', 'cli')),
  old_bsb TEXT,
  new_bsb TEXT,
  old_account TEXT,
  new_account TEXT,
  old_account_name TEXT,
  new_account_name TEXT,
  old_min_balance_cents BIGINT NOT NULL,
  new_min_balance_cents BIGINT NOT NULL CHECK (new_min_balance_cents >= 0),
  -- The returned-line flag this change cleared, if any.
  cleared_flag TEXT,
  created_at TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
  CHECK (source = 'cli' OR changed_by_user_id IS NOT NULL)
);
CREATE INDEX organisation_bank_changes_org_idx ON organisation_bank_changes (organisation_id, created_at);

-- The club finance report names each line's session or API reference: found from the posting.
CREATE INDEX api_charges_posting_id_idx ON api_charges (posting_id) WHERE posting_id IS NOT NULL;
CREATE INDEX api_refunds_posting_id_idx ON api_refunds (posting_id);
