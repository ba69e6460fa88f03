-- Two guards move off the path every payment takes, keeping their rules. PostgreSQL reads a table CHECK's stored
-- expression back from text for every statement that writes the table, and evaluates every CHECK on every
-- UPDATE, whatever columns it changes; these two were most of what the posting engine's statement still spent
-- that way.

-- An account belongs to exactly the one owner its kind says. The owner is set when the account is opened and
-- never changes, so the rule is checked when an account is opened or its owner columns are written, not on the
-- balance updates of every posting.
ALTER TABLE accounts DROP CONSTRAINT accounts_owner_chk;
CREATE FUNCTION ledger_check_owner() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NOT coalesce(
    (NEW.kind = 'MEMBER' AND NEW.user_id IS NOT NULL AND NEW.organisation_id IS NULL AND NEW.system_code IS NULL) OR
    (NEW.kind = 'ORGANISATION' AND NEW.organisation_id IS NOT NULL AND NEW.user_id IS NULL AND NEW.system_code IS NULL) OR
    (NEW.kind = 'SYSTEM' AND NEW.system_code IS NOT NULL AND NEW.user_id IS NULL AND NEW.organisation_id IS NULL),
    false) THEN
    RAISE EXCEPTION 'account % must belong to exactly the one owner its kind (%) names', NEW.id, NEW.kind
      USING ERRCODE = 'check_violation';
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER accounts_owner BEFORE INSERT OR UPDATE OF kind, user_id, organisation_id, system_code ON accounts
  FOR EACH ROW EXECUTE FUNCTION ledger_check_owner();

-- Idempotency keys are 1 to 200 characters: a domain, whose check is read once per connection.
CREATE DOMAIN ledger_key AS text CONSTRAINT ledger_key_length CHECK (length(VALUE) BETWEEN 1 AND 200);
ALTER TABLE postings DROP CONSTRAINT postings_key_chk;
ALTER TABLE postings ALTER COLUMN idempotency_key TYPE ledger_key;
