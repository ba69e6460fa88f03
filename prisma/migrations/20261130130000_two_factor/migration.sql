-- Two-factor sign-in (issue 18). One authenticator (TOTP) secret per user, encrypted by the app (AES-256-GCM with
-- APP_ENCRYPTION_KEY) so a copy of the database alone cannot mint codes. enabled_at is null while enrolment waits
-- for its first code. last_used_step is the 30-second step of the last code accepted: a code of that step or an
-- earlier one is refused, so each code signs in once.
CREATE TABLE "two_factor_secrets" (
    "user_id" INTEGER NOT NULL,
    "secret_encrypted" TEXT NOT NULL,
    "enabled_at" TIMESTAMPTZ(6),
    "last_used_step" BIGINT,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "two_factor_secrets_pkey" PRIMARY KEY ("user_id")
);
ALTER TABLE "two_factor_secrets" ADD CONSTRAINT "two_factor_secrets_user_id_fkey"
    FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- One-time recovery codes, stored as keyed hashes (HMAC-SHA256 with a key derived from APP_ENCRYPTION_KEY);
-- used_at is set by the sign-in that spends one.
CREATE TABLE "recovery_codes" (
    "id" SERIAL NOT NULL,
    "user_id" INTEGER NOT NULL,
    "code_hash" TEXT NOT NULL,
    "used_at" TIMESTAMPTZ(6),
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "recovery_codes_pkey" PRIMARY KEY ("id")
);
CREATE UNIQUE INDEX "recovery_codes_user_id_code_hash_key" ON "recovery_codes"("user_id", "code_hash");
ALTER TABLE "recovery_codes" ADD CONSTRAINT "recovery_codes_user_id_fkey"
    FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- The sessions page lists, and "sign out" deletes, a user's sessions: find them by the user id passport keeps in
-- the session's JSON without reading the whole table.
CREATE INDEX "session_user_idx" ON "session" (((sess::jsonb -> 'passport' ->> 'user')));
