-- CreateTable
CREATE TABLE "notifications" (
    "id" SERIAL NOT NULL,
    "user_id" INTEGER,
    "email" TEXT,
    "kind" TEXT NOT NULL,
    "subject" TEXT NOT NULL,
    "body" TEXT NOT NULL,
    "link_url" TEXT,
    "link_text" TEXT,
    "dedupe_key" TEXT NOT NULL,
    "send_email" BOOLEAN NOT NULL DEFAULT true,
    "show_in_app" BOOLEAN NOT NULL DEFAULT true,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "sent_at" TIMESTAMPTZ(6),
    "send_attempts" INTEGER NOT NULL DEFAULT 0,
    "claimed_at" TIMESTAMPTZ(6),
    "last_error" TEXT,
    "read_at" TIMESTAMPTZ(6),

    CONSTRAINT "notifications_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "notifications_dedupe_key_key" ON "notifications"("dedupe_key");

-- CreateIndex
CREATE INDEX "notifications_user_id_created_at_idx" ON "notifications"("user_id", "created_at");

-- CreateIndex
CREATE INDEX "notifications_created_at_idx" ON "notifications"("created_at");


-- Hand-written: the mailer's queue is the unsent e-mails.
CREATE INDEX "notifications_unsent" ON "notifications" ("id") WHERE "send_email" AND "sent_at" IS NULL;
ALTER TABLE "notifications" ADD CONSTRAINT "notifications_recipient" CHECK ("user_id" IS NOT NULL OR "email" IS NOT NULL);
