-- CreateTable
CREATE TABLE "organisation_fee_overrides" (
    "id" SERIAL NOT NULL,
    "organisation_id" INTEGER NOT NULL,
    "fee_ppm" INTEGER NOT NULL,
    "created_by_user_id" INTEGER,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "organisation_fee_overrides_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "organisation_fee_overrides_organisation_id_key" ON "organisation_fee_overrides"("organisation_id");

-- AddForeignKey
ALTER TABLE "organisation_fee_overrides" ADD CONSTRAINT "organisation_fee_overrides_organisation_id_fkey" FOREIGN KEY ("organisation_id") REFERENCES "organisations"("id") ON DELETE CASCADE ON UPDATE CASCADE;


-- Hand-written: a fee is a percentage of the amount settled, from 0 to 100 %.
ALTER TABLE "organisation_fee_overrides"
  ADD CONSTRAINT "organisation_fee_overrides_range" CHECK ("fee_ppm" BETWEEN 0 AND 1000000);
