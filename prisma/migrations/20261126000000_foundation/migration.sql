-- CreateEnum
CREATE TYPE "OrgType" AS ENUM ('NATIONAL', 'STATE', 'CLUB', 'OTHER');

-- CreateEnum
CREATE TYPE "OrgStatus" AS ENUM ('OPEN', 'CLOSED');

-- CreateEnum
CREATE TYPE "RoleLevel" AS ENUM ('VIEW', 'EDIT');

-- CreateTable
CREATE TABLE "users" (
    "id" SERIAL NOT NULL,
    "system_number" INTEGER NOT NULL,
    "first_name" TEXT NOT NULL,
    "last_name" TEXT NOT NULL,
    "email" TEXT NOT NULL,
    "password_hash" TEXT NOT NULL,
    "is_active" BOOLEAN NOT NULL DEFAULT true,
    "password_changed_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(6) NOT NULL,

    CONSTRAINT "users_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "organisations" (
    "id" SERIAL NOT NULL,
    "club_number" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "type" "OrgType" NOT NULL DEFAULT 'CLUB',
    "status" "OrgStatus" NOT NULL DEFAULT 'OPEN',
    "address_line1" TEXT,
    "address_line2" TEXT,
    "suburb" TEXT,
    "state" TEXT,
    "postcode" TEXT,
    "bank_bsb" TEXT,
    "bank_account" TEXT,
    "min_balance_after_settlement_cents" BIGINT NOT NULL DEFAULT 0,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(6) NOT NULL,

    CONSTRAINT "organisations_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "role_grants" (
    "id" SERIAL NOT NULL,
    "user_id" INTEGER NOT NULL,
    "organisation_id" INTEGER,
    "level" "RoleLevel" NOT NULL,
    "granted_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "role_grants_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "session" (
    "sid" VARCHAR NOT NULL,
    "sess" JSON NOT NULL,
    "expire" TIMESTAMP(6) NOT NULL,

    CONSTRAINT "session_pkey" PRIMARY KEY ("sid")
);

-- CreateIndex
CREATE UNIQUE INDEX "users_system_number_key" ON "users"("system_number");

-- CreateIndex
CREATE UNIQUE INDEX "users_email_key" ON "users"("email");

-- CreateIndex
CREATE UNIQUE INDEX "organisations_club_number_key" ON "organisations"("club_number");

-- CreateIndex
CREATE INDEX "role_grants_organisation_id_idx" ON "role_grants"("organisation_id");

-- CreateIndex
CREATE UNIQUE INDEX "role_grants_user_id_organisation_id_key" ON "role_grants"("user_id", "organisation_id");

-- CreateIndex
CREATE INDEX "IDX_session_expire" ON "session"("expire");

-- AddForeignKey
ALTER TABLE "role_grants" ADD CONSTRAINT "role_grants_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "role_grants" ADD CONSTRAINT "role_grants_organisation_id_fkey" FOREIGN KEY ("organisation_id") REFERENCES "organisations"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Hand-written: what Prisma's schema language cannot say.
-- A user holds at most one global payments role (NULL organisation ids are distinct to the unique index above).
CREATE UNIQUE INDEX "role_grants_user_global_key" ON "role_grants"("user_id") WHERE "organisation_id" IS NULL;
-- E-mail is compared case-insensitively, so it is stored lower-cased.
ALTER TABLE "users" ADD CONSTRAINT "users_email_lower_chk" CHECK ("email" = lower("email"));
ALTER TABLE "users" ADD CONSTRAINT "users_system_number_chk" CHECK ("system_number" > 0);
ALTER TABLE "organisations" ADD CONSTRAINT "organisations_min_balance_chk" CHECK ("min_balance_after_settlement_cents" >= 0);
ALTER TABLE "organisations" ADD CONSTRAINT "organisations_bsb_chk" CHECK ("bank_bsb" IS NULL OR "bank_bsb" ~ '^[0-9]{6}$');
ALTER TABLE "organisations" ADD CONSTRAINT "organisations_account_chk" CHECK ("bank_account" IS NULL OR "bank_account" ~ '^[0-9]{4,9}$');
