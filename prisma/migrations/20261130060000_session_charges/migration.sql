-- The club's "Charge a session" page (issue 16). A confirmed batch is one row, found again by the confirming
-- form's request id (per club): a second submit of the same form shows this batch instead of booking again,
-- and the fingerprint of what the form carried keeps the same form from booking a different batch.
-- Its charges are API charge rows (api_charges) made by the page instead of a key: each names its batch, and is
-- booked under "session:<batch id>:<item>" (also the ledger posting's key), so a re-run books nothing new.
CREATE TABLE "session_charge_batches" (
    "id" SERIAL NOT NULL,
    "organisation_id" INTEGER NOT NULL,
    "request_id" TEXT NOT NULL,
    -- SHA-256 of the club, the description, the reference and the rows (member, cents, description)
    "fingerprint" TEXT NOT NULL,
    "description" TEXT NOT NULL,
    "reference" TEXT,
    "item_count" INTEGER NOT NULL,
    "total_cents" BIGINT NOT NULL,
    "created_by_user_id" INTEGER NOT NULL,
    -- While booking: the lease of the request doing it (renewed while it runs; a dead one's runs out)
    "locked_until" TIMESTAMPTZ(6),
    -- Per-row outcome, in order, once booked (null while booking)
    "results" JSONB,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "finished_at" TIMESTAMPTZ(6),
    CONSTRAINT "session_charge_batches_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "session_charge_batches_items" CHECK ("item_count" BETWEEN 1 AND 500 AND "total_cents" > 0),
    CONSTRAINT "session_charge_batches_done" CHECK (("results" IS NULL) = ("finished_at" IS NULL))
);
CREATE UNIQUE INDEX "session_charge_batches_organisation_id_request_id_key"
    ON "session_charge_batches"("organisation_id", "request_id");
ALTER TABLE "session_charge_batches" ADD CONSTRAINT "session_charge_batches_organisation_id_fkey"
    FOREIGN KEY ("organisation_id") REFERENCES "organisations"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
ALTER TABLE "session_charge_batches" ADD CONSTRAINT "session_charge_batches_created_by_user_id_fkey"
    FOREIGN KEY ("created_by_user_id") REFERENCES "users"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- A charge is made by an API key or by a session batch, never both.
ALTER TABLE "api_charges" ALTER COLUMN "api_key_id" DROP NOT NULL;
ALTER TABLE "api_charges" ADD COLUMN "session_batch_id" INTEGER;
ALTER TABLE "api_charges" ADD CONSTRAINT "api_charges_made_by" CHECK (("api_key_id" IS NULL) <> ("session_batch_id" IS NULL));
ALTER TABLE "api_charges" ADD CONSTRAINT "api_charges_session_batch_id_fkey"
    FOREIGN KEY ("session_batch_id") REFERENCES "session_charge_batches"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
CREATE INDEX "api_charges_session_batch_id_idx" ON "api_charges"("session_batch_id") WHERE "session_batch_id" IS NOT NULL;
