-- CreateEnum
CREATE TYPE "AutoTopUpStatus" AS ENUM ('OFF', 'PENDING', 'ON', 'FAILED');

-- CreateEnum
CREATE TYPE "AccountKind" AS ENUM ('MEMBER', 'ORGANISATION', 'SYSTEM');

-- CreateEnum
CREATE TYPE "CardPaymentStatus" AS ENUM ('INITIATED', 'INTENT', 'PENDING', 'SUCCEEDED', 'FAILED', 'PARTIAL_REFUND', 'REFUNDED');

-- AlterTable
ALTER TABLE "users" ADD COLUMN     "auto_top_up_amount_cents" BIGINT,
ADD COLUMN     "auto_top_up_status" "AutoTopUpStatus" NOT NULL DEFAULT 'OFF',
ADD COLUMN     "receive_low_balance_emails" BOOLEAN NOT NULL DEFAULT true,
ADD COLUMN     "receive_payments_emails" BOOLEAN NOT NULL DEFAULT true,
ADD COLUMN     "stripe_customer_id" TEXT;

-- CreateTable
CREATE TABLE "accounts" (
    "id" SERIAL NOT NULL,
    "kind" "AccountKind" NOT NULL,
    "user_id" INTEGER,
    "organisation_id" INTEGER,
    "system_code" TEXT,
    "balance_cents" BIGINT NOT NULL DEFAULT 0,
    "entry_count" INTEGER NOT NULL DEFAULT 0,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "accounts_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "postings" (
    "id" BIGSERIAL NOT NULL,
    "idempotency_key" TEXT NOT NULL,
    "request_hash" TEXT NOT NULL,
    "type" TEXT NOT NULL,
    "description" TEXT NOT NULL,
    "reference_no" TEXT NOT NULL,
    "actor_user_id" INTEGER,
    "club_session_id" INTEGER,
    "event_id" INTEGER,
    "card_payment_id" INTEGER,
    "allow_overdraft" BOOLEAN NOT NULL DEFAULT false,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "postings_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "entries" (
    "account_id" INTEGER NOT NULL,
    "entry_no" INTEGER NOT NULL,
    "posting_id" BIGINT NOT NULL,
    "amount_cents" BIGINT NOT NULL,
    "balance_after_cents" BIGINT NOT NULL,
    "type" TEXT NOT NULL,
    "counterparty_account_id" INTEGER,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "entries_pkey" PRIMARY KEY ("account_id","entry_no")
);

-- CreateTable
CREATE TABLE "card_payments" (
    "id" SERIAL NOT NULL,
    "user_id" INTEGER,
    "description" TEXT NOT NULL,
    "amount_cents" BIGINT NOT NULL,
    "status" "CardPaymentStatus" NOT NULL DEFAULT 'INITIATED',
    "stripe_charge_id" TEXT,
    "stripe_payment_intent_id" TEXT,
    "stripe_payment_method_id" TEXT,
    "currency" TEXT NOT NULL DEFAULT 'aud',
    "receipt_url" TEXT,
    "balance_transaction_id" TEXT,
    "card_brand" TEXT,
    "card_country" TEXT,
    "card_exp_month" INTEGER,
    "card_exp_year" INTEGER,
    "card_last4" TEXT,
    "route_code" TEXT,
    "route_payload" TEXT,
    "linked_organisation_id" INTEGER,
    "linked_user_id" INTEGER,
    "linked_type" TEXT,
    "linked_amount_cents" BIGINT,
    "refunded_cents" BIGINT NOT NULL DEFAULT 0,
    "club_session_id" INTEGER,
    "event_id" INTEGER,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "card_payments_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ious" (
    "id" SERIAL NOT NULL,
    "system_number" INTEGER NOT NULL,
    "organisation_id" INTEGER NOT NULL,
    "amount_cents" BIGINT NOT NULL,
    "description" TEXT NOT NULL,
    "club_session_id" INTEGER,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "ious_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "payment_settings" (
    "id" SERIAL NOT NULL,
    "default_org_fee_ppm" INTEGER NOT NULL,
    "stripe_fixed_fee_cents" INTEGER NOT NULL,
    "stripe_fee_ppm" INTEGER NOT NULL,
    "refund_fee_ppm" INTEGER NOT NULL,
    "refund_window_weeks" INTEGER NOT NULL,
    "modified_by_user_id" INTEGER,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "payment_settings_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "accounts_user_id_key" ON "accounts"("user_id");

-- CreateIndex
CREATE UNIQUE INDEX "accounts_organisation_id_key" ON "accounts"("organisation_id");

-- CreateIndex
CREATE UNIQUE INDEX "accounts_system_code_key" ON "accounts"("system_code");

-- CreateIndex
CREATE UNIQUE INDEX "postings_idempotency_key_key" ON "postings"("idempotency_key");

-- CreateIndex
CREATE INDEX "entries_account_id_created_at_idx" ON "entries"("account_id", "created_at");

-- CreateIndex
CREATE INDEX "entries_posting_id_idx" ON "entries"("posting_id");

-- CreateIndex
CREATE UNIQUE INDEX "card_payments_stripe_payment_intent_id_key" ON "card_payments"("stripe_payment_intent_id");

-- CreateIndex
CREATE INDEX "card_payments_user_id_created_at_idx" ON "card_payments"("user_id", "created_at");

-- CreateIndex
CREATE INDEX "card_payments_status_idx" ON "card_payments"("status");

-- CreateIndex
CREATE INDEX "ious_system_number_idx" ON "ious"("system_number");

-- AddForeignKey
ALTER TABLE "accounts" ADD CONSTRAINT "accounts_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "accounts" ADD CONSTRAINT "accounts_organisation_id_fkey" FOREIGN KEY ("organisation_id") REFERENCES "organisations"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "postings" ADD CONSTRAINT "postings_card_payment_id_fkey" FOREIGN KEY ("card_payment_id") REFERENCES "card_payments"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "card_payments" ADD CONSTRAINT "card_payments_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ious" ADD CONSTRAINT "ious_organisation_id_fkey" FOREIGN KEY ("organisation_id") REFERENCES "organisations"("id") ON DELETE CASCADE ON UPDATE CASCADE;


-- ===================================================================================================
-- Hand-written: the ledger's rules, enforced by the database as well as by the code.
-- ===================================================================================================

-- Transaction types: the original's vocabulary (reference §1.1), nothing else.
CREATE FUNCTION ledger_type_ok(t text) RETURNS boolean LANGUAGE sql IMMUTABLE AS $$
  SELECT t IN ('Transfer Out', 'Transfer In', 'Auto Top Up', 'Manual Top Up', 'Club Top Up', 'Club Top Up Rev',
               'Entry to an event', 'CC Payment', 'Club Payment', 'Club Membership', 'Member Transfer',
               'Miscellaneous', 'Settlement', 'Manual Adjustment', 'Org Transfer', 'Refund', 'Card Refund')
$$;

ALTER TABLE accounts ADD CONSTRAINT accounts_owner_chk CHECK (
  (kind = 'MEMBER' AND user_id IS NOT NULL AND organisation_id IS NULL AND system_code IS NULL) OR
  (kind = 'ORGANISATION' AND organisation_id IS NOT NULL AND user_id IS NULL AND system_code IS NULL) OR
  (kind = 'SYSTEM' AND system_code IS NOT NULL AND user_id IS NULL AND organisation_id IS NULL));
ALTER TABLE accounts ADD CONSTRAINT accounts_entry_count_chk CHECK (entry_count >= 0);
ALTER TABLE postings ADD CONSTRAINT postings_type_chk CHECK (ledger_type_ok(type));
ALTER TABLE postings ADD CONSTRAINT postings_key_chk CHECK (length(idempotency_key) BETWEEN 1 AND 200);
ALTER TABLE entries ADD CONSTRAINT entries_type_chk CHECK (ledger_type_ok(type));
ALTER TABLE entries ADD CONSTRAINT entries_amount_chk CHECK (amount_cents <> 0);
ALTER TABLE entries ADD CONSTRAINT entries_entry_no_chk CHECK (entry_no >= 1);
ALTER TABLE card_payments ADD CONSTRAINT card_payments_amount_chk CHECK (amount_cents > 0);
ALTER TABLE card_payments ADD CONSTRAINT card_payments_refunded_chk CHECK (refunded_cents >= 0);
ALTER TABLE ious ADD CONSTRAINT ious_amount_chk CHECK (amount_cents > 0);
ALTER TABLE users ADD CONSTRAINT users_auto_amount_chk
  CHECK (auto_top_up_amount_cents IS NULL OR auto_top_up_amount_cents BETWEEN 100 AND 200000);
ALTER TABLE payment_settings ADD CONSTRAINT payment_settings_ranges_chk CHECK (
  default_org_fee_ppm BETWEEN 0 AND 1000000 AND stripe_fee_ppm BETWEEN 0 AND 1000000 AND
  refund_fee_ppm BETWEEN 0 AND 1000000 AND stripe_fixed_fee_cents >= 0 AND refund_window_weeks BETWEEN 0 AND 520);

-- Partial indexes: only the postings that have these get an index entry (most payments have none).
CREATE INDEX postings_club_session_idx ON postings (club_session_id) WHERE club_session_id IS NOT NULL;
CREATE INDEX postings_event_idx ON postings (event_id) WHERE event_id IS NOT NULL;
CREATE INDEX postings_card_payment_idx ON postings (card_payment_id) WHERE card_payment_id IS NOT NULL;
CREATE INDEX postings_admin_types_idx ON postings (type, created_at)
  WHERE type IN ('Manual Adjustment', 'Settlement', 'Card Refund');
-- The last top-up of an account in one index probe, however long its statement.
CREATE INDEX entries_top_ups_idx ON entries (account_id, type, entry_no)
  WHERE type IN ('Manual Top Up', 'Auto Top Up', 'CC Payment');

-- Every member and organisation has exactly one account, from the moment it exists.
CREATE FUNCTION ledger_open_user_account() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO accounts (kind, user_id) VALUES ('MEMBER', NEW.id) ON CONFLICT DO NOTHING;
  RETURN NULL;
END $$;
CREATE TRIGGER users_open_account AFTER INSERT ON users FOR EACH ROW EXECUTE FUNCTION ledger_open_user_account();

CREATE FUNCTION ledger_open_org_account() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO accounts (kind, organisation_id) VALUES ('ORGANISATION', NEW.id) ON CONFLICT DO NOTHING;
  RETURN NULL;
END $$;
CREATE TRIGGER organisations_open_account AFTER INSERT ON organisations FOR EACH ROW
  EXECUTE FUNCTION ledger_open_org_account();

INSERT INTO accounts (kind, user_id) SELECT 'MEMBER', id FROM users;
INSERT INTO accounts (kind, organisation_id) SELECT 'ORGANISATION', id FROM organisations;
INSERT INTO accounts (kind, system_code) VALUES
  ('SYSTEM', 'CARD_FUNDS'), ('SYSTEM', 'FEE_INCOME'), ('SYSTEM', 'SETTLEMENTS_PAYABLE'), ('SYSTEM', 'ADJUSTMENTS');

-- The original's reference settings: 3 % club fee, Stripe $0.30 + 1.35 %, 3 % refund fee, 12-week refund window.
INSERT INTO payment_settings (default_org_fee_ppm, stripe_fixed_fee_cents, stripe_fee_ppm, refund_fee_ppm,
                              refund_window_weeks)
VALUES (30000, 30, 13500, 30000, 12);

-- The ledger is append-only: entries and postings are never changed or removed.
CREATE FUNCTION ledger_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'ledger rows are append-only (% on %)', TG_OP, TG_TABLE_NAME USING ERRCODE = 'restrict_violation';
END $$;
CREATE TRIGGER entries_append_only BEFORE UPDATE OR DELETE ON entries
  FOR EACH ROW EXECUTE FUNCTION ledger_append_only();
CREATE TRIGGER entries_no_truncate BEFORE TRUNCATE ON entries
  FOR EACH STATEMENT EXECUTE FUNCTION ledger_append_only();
CREATE TRIGGER postings_append_only BEFORE UPDATE OR DELETE ON postings
  FOR EACH ROW EXECUTE FUNCTION ledger_append_only();
CREATE TRIGGER postings_no_truncate BEFORE TRUNCATE ON postings
  FOR EACH STATEMENT EXECUTE FUNCTION ledger_append_only();

-- Every posting's entries sum to zero. Checked once per INSERT statement over the rows it added, so every
-- statement that writes entries must write whole postings (the posting engine writes all of a batch at once).
CREATE FUNCTION ledger_check_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE bad bigint;
BEGIN
  SELECT posting_id INTO bad FROM new_entries GROUP BY posting_id HAVING sum(amount_cents) <> 0 LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION 'posting % does not sum to zero', bad USING ERRCODE = 'check_violation';
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER entries_balanced AFTER INSERT ON entries REFERENCING NEW TABLE AS new_entries
  FOR EACH STATEMENT EXECUTE FUNCTION ledger_check_balanced();

-- No member or organisation balance goes below zero (or further below) unless the transaction declared an
-- approved overdraft (an administrator's adjustment), by setting ledger.allow_overdraft for itself.
CREATE FUNCTION ledger_guard_overdraft() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF coalesce(current_setting('ledger.allow_overdraft', true), '') <> 'on' THEN
    RAISE EXCEPTION 'insufficient funds: account % would go to % cents', NEW.id, NEW.balance_cents
      USING ERRCODE = 'check_violation';
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER accounts_no_overdraft BEFORE UPDATE OF balance_cents ON accounts FOR EACH ROW
  WHEN (NEW.kind <> 'SYSTEM' AND NEW.balance_cents < 0 AND NEW.balance_cents < OLD.balance_cents)
  EXECUTE FUNCTION ledger_guard_overdraft();
CREATE FUNCTION ledger_guard_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.balance_cents <> 0 OR NEW.entry_count <> 0 THEN
    RAISE EXCEPTION 'accounts open empty; money moves only through postings' USING ERRCODE = 'check_violation';
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER accounts_open_empty BEFORE INSERT ON accounts FOR EACH ROW EXECUTE FUNCTION ledger_guard_insert();

-- Ledger invariants, for tests, benchmarks and the finance health page. Returns one row per broken rule
-- (empty when the ledger is sound).
CREATE FUNCTION ledger_violations() RETURNS TABLE (rule text, subject text) LANGUAGE sql STABLE AS $$
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

-- Used by the posting engine's write statement: when another transaction booked one of the batch's
-- idempotency keys after the engine looked them up, fail the whole statement (and so the transaction) with a
-- serialization failure, which the engine retries and then answers as a replay.
CREATE FUNCTION ledger_expect_booked(got bigint, expected int) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
  IF got <> expected THEN
    RAISE EXCEPTION 'idempotency key booked concurrently (% of % postings written)', got, expected
      USING ERRCODE = 'serialization_failure';
  END IF;
  RETURN true;
END $$;
