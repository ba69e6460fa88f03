-- CreateEnum
CREATE TYPE "CardPaymentKind" AS ENUM ('CHECKOUT', 'SAVED_CARD');

-- CreateEnum
CREATE TYPE "CardRefundKind" AS ENUM ('MEMBER', 'ADMIN');

-- CreateEnum
CREATE TYPE "CardRefundStatus" AS ENUM ('PENDING', 'SUCCEEDED', 'FAILED');

-- AlterEnum
ALTER TYPE "CardPaymentStatus" ADD VALUE 'REQUIRES_ACTION';

-- AlterTable
ALTER TABLE "card_payments" ADD COLUMN     "failure_message" TEXT,
ADD COLUMN     "kind" "CardPaymentKind" NOT NULL DEFAULT 'CHECKOUT',
ADD COLUMN     "request_key" TEXT,
ADD COLUMN     "stripe_idempotency_key" TEXT;

-- CreateTable
CREATE TABLE "card_refunds" (
    "id" SERIAL NOT NULL,
    "card_payment_id" INTEGER NOT NULL,
    "user_id" INTEGER NOT NULL,
    "requested_by_user_id" INTEGER NOT NULL,
    "kind" "CardRefundKind" NOT NULL,
    "credits_cents" BIGINT NOT NULL,
    "fee_cents" BIGINT NOT NULL,
    "card_amount_cents" BIGINT NOT NULL,
    "description" TEXT NOT NULL,
    "status" "CardRefundStatus" NOT NULL DEFAULT 'PENDING',
    "stripe_refund_id" TEXT,
    "failure_message" TEXT,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "card_refunds_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "stripe_events" (
    "id" TEXT NOT NULL,
    "type" TEXT NOT NULL,
    "payload" JSONB NOT NULL,
    "received_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "processed_at" TIMESTAMPTZ(6),
    "outcome" TEXT,

    CONSTRAINT "stripe_events_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "card_refunds_stripe_refund_id_key" ON "card_refunds"("stripe_refund_id");

-- CreateIndex
CREATE INDEX "card_refunds_card_payment_id_idx" ON "card_refunds"("card_payment_id");

-- CreateIndex
CREATE INDEX "card_refunds_status_idx" ON "card_refunds"("status");

-- CreateIndex
CREATE INDEX "stripe_events_received_at_idx" ON "stripe_events"("received_at");

-- CreateIndex
CREATE UNIQUE INDEX "card_payments_request_key_key" ON "card_payments"("request_key");

-- AddForeignKey
ALTER TABLE "card_refunds" ADD CONSTRAINT "card_refunds_card_payment_id_fkey" FOREIGN KEY ("card_payment_id") REFERENCES "card_payments"("id") ON DELETE RESTRICT ON UPDATE CASCADE;


-- Hand-written: rules the database enforces whatever the code does.

-- At most one saved-card charge in flight per member: two payments needing an auto top-up at the same moment
-- cannot both charge the card; the second waits for the first (src/services/payments/saved-card-charge.ts).
CREATE UNIQUE INDEX "card_payments_one_saved_card_charge_in_flight"
  ON "card_payments" ("user_id") WHERE "kind" = 'SAVED_CARD' AND "status" = 'INITIATED';

ALTER TABLE "card_payments"
  ADD CONSTRAINT "card_payments_refunded_within_amount" CHECK ("refunded_cents" <= "amount_cents");

ALTER TABLE "card_refunds"
  ADD CONSTRAINT "card_refunds_amounts" CHECK (
    "credits_cents" > 0 AND "fee_cents" >= 0 AND "card_amount_cents" >= 0
    AND "card_amount_cents" + "fee_cents" = "credits_cents");
