-- AlterTable
ALTER TABLE "payment_settings" ADD COLUMN     "aba_bank_code" TEXT NOT NULL DEFAULT 'CBA',
ADD COLUMN     "aba_remitter_name" TEXT NOT NULL DEFAULT 'ABF BRIDGE CREDIT',
ADD COLUMN     "aba_user_id" TEXT NOT NULL DEFAULT '000000',
ADD COLUMN     "aba_user_name" TEXT NOT NULL DEFAULT 'AUSTRALIAN BRIDGE FED',
ADD COLUMN     "federation_account" TEXT NOT NULL DEFAULT '000000000',
ADD COLUMN     "federation_bsb" TEXT NOT NULL DEFAULT '000000';

-- CreateTable
CREATE TABLE "settlement_batches" (
    "id" SERIAL NOT NULL,
    "reference_date" DATE NOT NULL,
    "request_key" TEXT NOT NULL,
    "created_by_user_id" INTEGER NOT NULL,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "gross_cents" BIGINT NOT NULL,
    "fee_cents" BIGINT NOT NULL,
    "net_cents" BIGINT NOT NULL,
    "aba_file" TEXT NOT NULL,

    CONSTRAINT "settlement_batches_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "settlements" (
    "id" SERIAL NOT NULL,
    "batch_id" INTEGER NOT NULL,
    "organisation_id" INTEGER NOT NULL,
    "reference_date" DATE NOT NULL,
    "sequence" INTEGER NOT NULL DEFAULT 1,
    "gross_cents" BIGINT NOT NULL,
    "fee_cents" BIGINT NOT NULL,
    "net_cents" BIGINT NOT NULL,
    "fee_ppm" INTEGER NOT NULL,
    "bsb" TEXT NOT NULL,
    "account_number" TEXT NOT NULL,
    "account_name" TEXT NOT NULL,
    "posting_id" BIGINT NOT NULL,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "settlements_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "settlement_batches_request_key_key" ON "settlement_batches"("request_key");

-- CreateIndex
CREATE INDEX "settlements_batch_id_idx" ON "settlements"("batch_id");

-- CreateIndex
CREATE UNIQUE INDEX "settlements_organisation_id_reference_date_sequence_key" ON "settlements"("organisation_id", "reference_date", "sequence");

-- AddForeignKey
ALTER TABLE "settlements" ADD CONSTRAINT "settlements_batch_id_fkey" FOREIGN KEY ("batch_id") REFERENCES "settlement_batches"("id") ON DELETE RESTRICT ON UPDATE CASCADE;


-- Hand-written: what a bank file can carry.
ALTER TABLE "settlements"
  ADD CONSTRAINT "settlements_amounts" CHECK ("gross_cents" > 0 AND "fee_cents" >= 0 AND "net_cents" >= 0
                                               AND "net_cents" + "fee_cents" = "gross_cents"),
  ADD CONSTRAINT "settlements_bank" CHECK ("bsb" ~ '^[0-9]{6}$' AND "account_number" ~ '^[0-9]{1,9}$');
ALTER TABLE "payment_settings"
  ADD CONSTRAINT "payment_settings_aba" CHECK ("aba_user_id" ~ '^[0-9]{6}$' AND "federation_bsb" ~ '^[0-9]{6}$'
                                                AND "federation_account" ~ '^[0-9]{1,9}$'
                                                AND "aba_bank_code" ~ '^[A-Z]{3}$');

-- A finance refund's confirmation id: submitting the same confirmation twice refunds once.
ALTER TABLE "card_refunds" ADD COLUMN "request_key" TEXT;
CREATE UNIQUE INDEX "card_refunds_request_key_key" ON "card_refunds"("request_key");
