-- Payments API (issue 16): keys, the call log, idempotent request records, and the charges and refunds made
-- through the API.

CREATE TABLE "api_keys" (
    "id" SERIAL NOT NULL,
    -- null: a federation-wide key
    "organisation_id" INTEGER,
    "name" TEXT NOT NULL,
    -- "bc_live_xxxxxxxx" / "bc_test_xxxxxxxx": the start of the key, shown in lists and used to find the key
    "prefix" TEXT NOT NULL,
    -- SHA-256 (hex) of the whole key; the key itself is never stored
    "secret_hash" TEXT NOT NULL,
    "scopes" TEXT[] NOT NULL,
    "expires_at" TIMESTAMPTZ(6),
    "revoked_at" TIMESTAMPTZ(6),
    "last_used_at" TIMESTAMPTZ(6),
    "created_by_user_id" INTEGER,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "api_keys_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "api_keys_scopes_known" CHECK ("scopes" <@ ARRAY['charges:write','refunds:write','ious:write','checkouts:write','read']::text[] AND cardinality("scopes") > 0)
);
CREATE UNIQUE INDEX "api_keys_prefix_key" ON "api_keys"("prefix");
CREATE INDEX "api_keys_organisation_id_idx" ON "api_keys"("organisation_id");
ALTER TABLE "api_keys" ADD CONSTRAINT "api_keys_organisation_id_fkey" FOREIGN KEY ("organisation_id") REFERENCES "organisations"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

CREATE TABLE "api_call_log" (
    "id" BIGSERIAL NOT NULL,
    "api_key_id" INTEGER,
    "method" TEXT NOT NULL,
    "route" TEXT NOT NULL,
    "status" INTEGER NOT NULL,
    "request_id" TEXT NOT NULL,
    "idempotency_key" TEXT,
    "replayed" BOOLEAN NOT NULL DEFAULT false,
    "duration_ms" INTEGER NOT NULL,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "api_call_log_pkey" PRIMARY KEY ("id")
);
CREATE INDEX "api_call_log_api_key_id_id_idx" ON "api_call_log"("api_key_id", "id");

-- One row per (key, Idempotency-Key): the request's fingerprint, and once finished the exact answer.
-- While running, locked_until is a lease the running request keeps extending; a request that died leaves a
-- lease that runs out, and the retry then runs it again (the ledger's own keys make that book nothing twice).
CREATE TABLE "api_idempotency" (
    "api_key_id" INTEGER NOT NULL,
    "idempotency_key" TEXT NOT NULL,
    "fingerprint" TEXT NOT NULL,
    "locked_until" TIMESTAMPTZ(6),
    "response_status" INTEGER,
    "response_type" TEXT,
    "response_body" TEXT,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "completed_at" TIMESTAMPTZ(6),
    CONSTRAINT "api_idempotency_pkey" PRIMARY KEY ("api_key_id", "idempotency_key")
);
CREATE INDEX "api_idempotency_created_at_idx" ON "api_idempotency"("created_at");

CREATE TABLE "api_charges" (
    "id" SERIAL NOT NULL,
    -- "<key id>:<Idempotency-Key>[:<item>]": also the ledger posting's key, so a re-run finds what was done
    "charge_key" TEXT NOT NULL,
    "api_key_id" INTEGER NOT NULL,
    "status" TEXT NOT NULL,
    "amount_cents" BIGINT NOT NULL,
    "refunded_cents" BIGINT NOT NULL DEFAULT 0,
    "user_id" INTEGER NOT NULL,
    "organisation_id" INTEGER,
    "payee_user_id" INTEGER,
    "description" TEXT NOT NULL,
    "reference" TEXT,
    "session_id" INTEGER,
    "event_id" INTEGER,
    "metadata" JSONB NOT NULL DEFAULT '{}',
    "posting_id" BIGINT,
    "balance_after_cents" BIGINT,
    "top_up_cents" BIGINT,
    "iou_id" INTEGER,
    "card_payment_id" INTEGER,
    "failure_code" TEXT,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "api_charges_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "api_charges_status_known" CHECK ("status" IN ('succeeded','failed','pending','iou')),
    CONSTRAINT "api_charges_amount_positive" CHECK ("amount_cents" > 0),
    CONSTRAINT "api_charges_refund_bounded" CHECK ("refunded_cents" >= 0 AND "refunded_cents" <= "amount_cents"),
    CONSTRAINT "api_charges_one_payee" CHECK (("organisation_id" IS NULL) <> ("payee_user_id" IS NULL))
);
CREATE UNIQUE INDEX "api_charges_charge_key_key" ON "api_charges"("charge_key");
CREATE INDEX "api_charges_organisation_id_id_idx" ON "api_charges"("organisation_id", "id");
CREATE INDEX "api_charges_reference_idx" ON "api_charges"("reference") WHERE "reference" IS NOT NULL;
CREATE INDEX "api_charges_card_payment_id_idx" ON "api_charges"("card_payment_id") WHERE "card_payment_id" IS NOT NULL;
ALTER TABLE "api_charges" ADD CONSTRAINT "api_charges_api_key_id_fkey" FOREIGN KEY ("api_key_id") REFERENCES "api_keys"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

CREATE TABLE "api_refunds" (
    "id" SERIAL NOT NULL,
    "refund_key" TEXT NOT NULL,
    "charge_id" INTEGER NOT NULL,
    "api_key_id" INTEGER NOT NULL,
    "amount_cents" BIGINT NOT NULL,
    "description" TEXT NOT NULL,
    "posting_id" BIGINT NOT NULL,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "api_refunds_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "api_refunds_amount_positive" CHECK ("amount_cents" > 0)
);
CREATE UNIQUE INDEX "api_refunds_refund_key_key" ON "api_refunds"("refund_key");
CREATE INDEX "api_refunds_charge_id_idx" ON "api_refunds"("charge_id");
ALTER TABLE "api_refunds" ADD CONSTRAINT "api_refunds_charge_id_fkey" FOREIGN KEY ("charge_id") REFERENCES "api_charges"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- IOUs recorded through the API, by the request's key, so a re-run after a crash finds the one already made.
CREATE TABLE "api_iou_keys" (
    "iou_key" TEXT NOT NULL,
    "iou_id" INTEGER NOT NULL,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "api_iou_keys_pkey" PRIMARY KEY ("iou_key")
);
