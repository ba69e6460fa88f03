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
    "id" BIGSERIAL NOT NULL,
    "posting_id" BIGINT NOT NULL,
    "account_id" INTEGER NOT NULL,
    "entry_no" INTEGER NOT NULL,
    "amount_cents" BIGINT NOT NULL,
    "balance_after_cents" BIGINT NOT NULL,
    "type" TEXT NOT NULL,
    "counterparty_account_id" INTEGER,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "entries_pkey" PRIMARY KEY ("id")
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
CREATE INDEX "postings_type_created_at_idx" ON "postings"("type", "created_at");

-- CreateIndex
CREATE INDEX "postings_club_session_id_idx" ON "postings"("club_session_id");

-- CreateIndex
CREATE INDEX "postings_event_id_idx" ON "postings"("event_id");

-- CreateIndex
CREATE INDEX "postings_card_payment_id_idx" ON "postings"("card_payment_id");

-- CreateIndex
CREATE INDEX "entries_account_id_created_at_idx" ON "entries"("account_id", "created_at");

-- CreateIndex
CREATE INDEX "entries_account_id_type_entry_no_idx" ON "entries"("account_id", "type", "entry_no");

-- CreateIndex
CREATE INDEX "entries_posting_id_idx" ON "entries"("posting_id");

-- CreateIndex
CREATE UNIQUE INDEX "entries_account_id_entry_no_key" ON "entries"("account_id", "entry_no");

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
ALTER TABLE "entries" ADD CONSTRAINT "entries_posting_id_fkey" FOREIGN KEY ("posting_id") REFERENCES "postings"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "entries" ADD CONSTRAINT "entries_account_id_fkey" FOREIGN KEY ("account_id") REFERENCES "accounts"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "entries" ADD CONSTRAINT "entries_counterparty_account_id_fkey" FOREIGN KEY ("counterparty_account_id") REFERENCES "accounts"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

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

-- ---------------------------------------------------------------------------------------------------
-- ledger_post(batch): books a batch of postings in one statement (one round trip, one transaction when called
-- on its own). Each posting:
--   {"key": idempotency key, "type", "description", "ref": reference number, "actor", "session", "event",
--    "card", "overdraft": bool, "at": timestamp (optional; default clock_timestamp()),
--    "entries": [{"acct": account id, "amount": signed cents, "type": optional side type, "cp": index of the
--                 counterparty entry in this posting}]}
-- Steps: lock every touched account row in id order (so concurrent batches never deadlock), then take the
-- postings in order: a known key replays the first result (or is refused if the request differs); a posting
-- that would take a member or club below zero is refused with the balance it found; the rest are written with
-- running balances and per-account entry numbers. Returns one row per input posting:
--   POSTED (detail: accounts and balances after, per entry), DUPLICATE, KEY_REUSED, INSUFFICIENT_FUNDS
--   (detail: account, balance, amount), INVALID (detail: reason).
-- ---------------------------------------------------------------------------------------------------
CREATE FUNCTION ledger_post(batch jsonb)
RETURNS TABLE (idx int, status text, posting_id bigint, detail jsonb)
LANGUAGE plpgsql AS $fn$
DECLARE
  n int := jsonb_array_length(batch);
  item jsonb;
  ents jsonb;
  en jsonb;
  ne int;
  i int;
  j int;
  pos int;
  cp int;
  amt bigint;
  total bigint;
  k text;
  h text;
  reason text;
  short jsonb;
  over boolean;
  any_over boolean := false;
  stamp timestamptz;
  new_pid bigint;
  acc_ids int[];
  acc_bal bigint[];
  acc_cnt int[];
  acc_kind text[];
  bal2 bigint[];
  pos_of int[];
  known jsonb;
  seen_keys text[] := '{}';
  seen_ids bigint[] := '{}';
  seen_hash text[] := '{}';
  inserted int;
  -- postings to write
  p_id bigint[] := '{}'; p_key text[] := '{}'; p_hash text[] := '{}'; p_type text[] := '{}';
  p_desc text[] := '{}'; p_ref text[] := '{}'; p_actor int[] := '{}'; p_session int[] := '{}';
  p_event int[] := '{}'; p_card int[] := '{}'; p_over boolean[] := '{}'; p_at timestamptz[] := '{}';
  -- entries to write
  e_pid bigint[] := '{}'; e_acct int[] := '{}'; e_no int[] := '{}'; e_amt bigint[] := '{}';
  e_bal bigint[] := '{}'; e_type text[] := '{}'; e_cp int[] := '{}'; e_at timestamptz[] := '{}';
  -- results
  r_idx int[] := '{}'; r_status text[] := '{}'; r_pid bigint[] := '{}'; r_detail jsonb[] := '{}';
  out_accts int[];
  out_bals bigint[];
BEGIN
  IF batch IS NULL OR jsonb_typeof(batch) <> 'array' THEN
    RAISE EXCEPTION 'ledger_post expects a JSON array' USING ERRCODE = 'invalid_parameter_value';
  END IF;

  -- Lock every account the batch touches, in id order.
  SELECT coalesce(array_agg(a.id ORDER BY a.id), '{}'), coalesce(array_agg(a.balance_cents ORDER BY a.id), '{}'),
         coalesce(array_agg(a.entry_count ORDER BY a.id), '{}'), coalesce(array_agg(a.kind::text ORDER BY a.id), '{}')
    INTO acc_ids, acc_bal, acc_cnt, acc_kind
    FROM (SELECT x.id, x.balance_cents, x.entry_count, x.kind FROM accounts x
           WHERE x.id IN (SELECT (e->>'acct')::int
                            FROM jsonb_array_elements(batch) it, jsonb_array_elements(it->'entries') e
                           WHERE jsonb_typeof(it->'entries') = 'array' AND e->>'acct' ~ '^[0-9]{1,9}$')
           ORDER BY x.id FOR UPDATE) a;

  -- Keys already booked (committed before our locks were granted).
  SELECT coalesce(jsonb_object_agg(p.idempotency_key, jsonb_build_array(p.id, p.request_hash)), '{}')
    INTO known
    FROM postings p
   WHERE p.idempotency_key IN (SELECT it->>'key' FROM jsonb_array_elements(batch) it);

  FOR i IN 0 .. n - 1 LOOP
    item := batch->i;
    k := item->>'key';
    h := md5((item - 'ref' - 'at')::text);
    reason := NULL;

    IF k IS NULL OR length(k) NOT BETWEEN 1 AND 200 THEN
      reason := 'idempotency key missing or too long';
    ELSIF known ? k OR k = ANY(seen_keys) THEN
      IF known ? k THEN
        new_pid := (known->k->>0)::bigint;
        reason := CASE WHEN known->k->>1 = h THEN 'DUPLICATE' ELSE 'KEY_REUSED' END;
      ELSE
        j := array_position(seen_keys, k);
        new_pid := seen_ids[j];
        reason := CASE WHEN seen_hash[j] = h THEN 'DUPLICATE' ELSE 'KEY_REUSED' END;
      END IF;
      r_idx := r_idx || i; r_status := r_status || reason; r_pid := r_pid || new_pid;
      r_detail := r_detail || '{}'::jsonb;
      CONTINUE;
    END IF;

    ents := item->'entries';
    IF reason IS NULL AND (jsonb_typeof(ents) IS DISTINCT FROM 'array' OR jsonb_array_length(ents) < 2) THEN
      reason := 'a posting needs at least two entries';
    END IF;
    IF reason IS NULL AND NOT coalesce(ledger_type_ok(item->>'type'), false) THEN
      reason := format('unknown transaction type %s', coalesce(item->>'type', 'null'));
    END IF;
    IF reason IS NULL AND coalesce(item->>'description', '') = '' THEN
      reason := 'description missing';
    END IF;

    over := coalesce((item->>'overdraft')::boolean, false);
    bal2 := acc_bal;
    pos_of := '{}';
    total := 0;
    short := NULL;
    IF reason IS NULL THEN
      ne := jsonb_array_length(ents);
      FOR j IN 0 .. ne - 1 LOOP
        en := ents->j;
        IF coalesce(en->>'amount', '') !~ '^-?[0-9]{1,15}$' OR (en->>'amount')::bigint = 0 THEN
          reason := 'each entry needs a non-zero whole number of cents'; EXIT;
        END IF;
        IF en->>'type' IS NOT NULL AND NOT ledger_type_ok(en->>'type') THEN
          reason := format('unknown transaction type %s', en->>'type'); EXIT;
        END IF;
        pos := array_position(acc_ids, CASE WHEN en->>'acct' ~ '^[0-9]{1,9}$' THEN (en->>'acct')::int END);
        IF pos IS NULL THEN
          reason := format('no account %s', coalesce(en->>'acct', 'null')); EXIT;
        END IF;
        cp := CASE WHEN en->>'cp' ~ '^[0-9]{1,3}$' THEN (en->>'cp')::int END;
        IF en ? 'cp' AND (cp IS NULL OR cp >= ne OR cp = j) THEN
          reason := 'counterparty must name another entry of the posting'; EXIT;
        END IF;
        amt := (en->>'amount')::bigint;
        total := total + amt;
        IF short IS NULL AND amt < 0 AND acc_kind[pos] <> 'SYSTEM' AND bal2[pos] + amt < 0 AND NOT over THEN
          short := jsonb_build_object('account', acc_ids[pos], 'balance', bal2[pos], 'amount', -amt);
        END IF;
        bal2[pos] := bal2[pos] + amt;
        pos_of := pos_of || pos;
      END LOOP;
      IF reason IS NULL AND total <> 0 THEN
        reason := format('entries sum to %s, not zero', total);
      END IF;
      -- A well-formed posting that does not fit the balance.
      IF reason IS NULL AND short IS NOT NULL THEN
        r_idx := r_idx || i; r_status := r_status || 'INSUFFICIENT_FUNDS'::text; r_pid := r_pid || NULL::bigint;
        r_detail := r_detail || short;
        reason := 'INSUFFICIENT_FUNDS';
      END IF;
    END IF;

    IF reason = 'INSUFFICIENT_FUNDS' THEN
      CONTINUE;
    ELSIF reason IS NOT NULL THEN
      r_idx := r_idx || i; r_status := r_status || 'INVALID'::text; r_pid := r_pid || NULL::bigint;
      r_detail := r_detail || jsonb_build_object('reason', reason);
      CONTINUE;
    END IF;

    -- Accepted: write it into the batch's arrays, in order.
    new_pid := nextval(pg_get_serial_sequence('postings', 'id'));
    stamp := coalesce((item->>'at')::timestamptz, clock_timestamp());
    any_over := any_over OR over;
    p_id := p_id || new_pid; p_key := p_key || k; p_hash := p_hash || h;
    p_type := p_type || (item->>'type'); p_desc := p_desc || (item->>'description');
    p_ref := p_ref || coalesce(item->>'ref', upper(substr(md5(random()::text), 1, 12)));
    p_actor := p_actor || (item->>'actor')::int; p_session := p_session || (item->>'session')::int;
    p_event := p_event || (item->>'event')::int; p_card := p_card || (item->>'card')::int;
    p_over := p_over || over; p_at := p_at || stamp;
    out_accts := '{}'; out_bals := '{}';
    FOR j IN 0 .. jsonb_array_length(ents) - 1 LOOP
      en := ents->j;
      pos := pos_of[j + 1];
      amt := (en->>'amount')::bigint;
      acc_bal[pos] := acc_bal[pos] + amt;
      acc_cnt[pos] := acc_cnt[pos] + 1;
      cp := (en->>'cp')::int;
      e_pid := e_pid || new_pid; e_acct := e_acct || acc_ids[pos]; e_no := e_no || acc_cnt[pos];
      e_amt := e_amt || amt; e_bal := e_bal || acc_bal[pos];
      e_type := e_type || coalesce(en->>'type', item->>'type');
      e_cp := e_cp || CASE WHEN cp IS NULL THEN NULL ELSE acc_ids[pos_of[cp + 1]] END;
      e_at := e_at || stamp;
      out_accts := out_accts || acc_ids[pos]; out_bals := out_bals || acc_bal[pos];
    END LOOP;
    seen_keys := seen_keys || k; seen_ids := seen_ids || new_pid; seen_hash := seen_hash || h;
    r_idx := r_idx || i; r_status := r_status || 'POSTED'::text; r_pid := r_pid || new_pid;
    r_detail := r_detail || jsonb_build_object('accounts', to_jsonb(out_accts), 'balances', to_jsonb(out_bals));
  END LOOP;

  IF array_length(p_id, 1) > 0 THEN
    INSERT INTO postings (id, idempotency_key, request_hash, type, description, reference_no, actor_user_id,
                          club_session_id, event_id, card_payment_id, allow_overdraft, created_at)
    SELECT * FROM unnest(p_id, p_key, p_hash, p_type, p_desc, p_ref, p_actor, p_session, p_event, p_card, p_over, p_at)
    ON CONFLICT (idempotency_key) DO NOTHING;
    GET DIAGNOSTICS inserted = ROW_COUNT;
    IF inserted <> array_length(p_id, 1) THEN
      -- Another transaction booked one of these keys after we looked: retry so the replay path answers.
      RAISE EXCEPTION 'idempotency key booked concurrently' USING ERRCODE = 'serialization_failure';
    END IF;
    INSERT INTO entries (posting_id, account_id, entry_no, amount_cents, balance_after_cents, type,
                         counterparty_account_id, created_at)
    SELECT * FROM unnest(e_pid, e_acct, e_no, e_amt, e_bal, e_type, e_cp, e_at);
    IF any_over THEN
      PERFORM set_config('ledger.allow_overdraft', 'on', true);
    END IF;
    UPDATE accounts a SET balance_cents = v.bal, entry_count = v.cnt
      FROM unnest(acc_ids, acc_bal, acc_cnt) AS v(id, bal, cnt)
     WHERE a.id = v.id AND a.entry_count <> v.cnt;
    IF any_over THEN
      PERFORM set_config('ledger.allow_overdraft', 'off', true);
    END IF;
  END IF;

  RETURN QUERY SELECT * FROM unnest(r_idx, r_status, r_pid, r_detail);
END
$fn$;

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
  SELECT 'balances do not sum to zero', sum(balance_cents)::text FROM accounts HAVING sum(balance_cents) <> 0
  UNION ALL
  SELECT 'member or club below zero without an approved overdraft', a.id::text FROM accounts a
   WHERE a.kind <> 'SYSTEM' AND a.balance_cents < 0
     AND NOT EXISTS (SELECT 1 FROM entries e JOIN postings p ON p.id = e.posting_id
                      WHERE e.account_id = a.id AND p.allow_overdraft AND e.amount_cents < 0)
$$;
