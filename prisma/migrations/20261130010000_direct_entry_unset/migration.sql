-- The federation's Direct Entry details (bank code, APCA user id, trace BSB and account) were filled with
-- made-up defaults (CBA, 000000, 000-000, 000000000) that ended up in real bank files. Unset is now NULL, and a
-- settlement is refused until a finance editor sets them on the payment settings page.
ALTER TABLE "payment_settings" DROP CONSTRAINT "payment_settings_aba";
ALTER TABLE "payment_settings"
  ALTER COLUMN "aba_bank_code" DROP NOT NULL, ALTER COLUMN "aba_bank_code" DROP DEFAULT,
  ALTER COLUMN "aba_user_id" DROP NOT NULL, ALTER COLUMN "aba_user_id" DROP DEFAULT,
  ALTER COLUMN "federation_bsb" DROP NOT NULL, ALTER COLUMN "federation_bsb" DROP DEFAULT,
  ALTER COLUMN "federation_account" DROP NOT NULL, ALTER COLUMN "federation_account" DROP DEFAULT;

-- Versions that still carry the placeholders were never configured: their bank code was the default too.
UPDATE "payment_settings" SET "aba_bank_code" = NULL
 WHERE "aba_user_id" = '000000' AND "federation_bsb" = '000000' AND "aba_bank_code" = 'CBA';
UPDATE "payment_settings" SET "aba_user_id" = NULL WHERE "aba_user_id" = '000000';
UPDATE "payment_settings" SET "federation_bsb" = NULL WHERE "federation_bsb" = '000000';
UPDATE "payment_settings" SET "federation_account" = NULL WHERE "federation_account" ~ '^0+$';

ALTER TABLE "payment_settings"
  ADD CONSTRAINT "payment_settings_aba" CHECK (
    ("aba_user_id" IS NULL OR "aba_user_id" ~ '^[0-9]{6}$' AND "aba_user_id" <> '000000')
    AND ("federation_bsb" IS NULL OR "federation_bsb" ~ '^[0-9]{6}$' AND "federation_bsb" <> '000000')
    AND ("federation_account" IS NULL OR "federation_account" ~ '^[0-9]{1,9}$' AND "federation_account" !~ '^0+$')
    AND ("aba_bank_code" IS NULL OR "aba_bank_code" ~ '^[A-Z]{3}$'));

-- The default remitter name was 17 characters, one more than the field holds, so every file cut it. Unchanged
-- defaults become a name that fits; anything else was typed by finance, within the form's 16.
ALTER TABLE "payment_settings" ALTER COLUMN "aba_remitter_name" SET DEFAULT 'ABF SETTLEMENT';
UPDATE "payment_settings" SET "aba_remitter_name" = 'ABF SETTLEMENT' WHERE "aba_remitter_name" = 'ABF BRIDGE CREDIT';
