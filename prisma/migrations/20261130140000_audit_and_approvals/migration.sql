-- Issue 18 items 2 and 3: the audit trail of staff actions, and second approval of large money moves.

-- One row per staff action, written in the transaction of the action itself. Append-only: the triggers below
-- refuse UPDATE, DELETE and TRUNCATE for every role the app connects as (a table owner could drop a trigger, so
-- a deployment that wants more also revokes those privileges from the app's role).
CREATE TABLE "audit_events" (
    "id" BIGSERIAL NOT NULL,
    "occurred_at" TIMESTAMPTZ(6) NOT NULL DEFAULT clock_timestamp(),
    -- The staff member; NULL for the operators' CLI, whose actor_label is "cli:<OS user>"
    "actor_user_id" INTEGER,
    -- Who, as they were called at the time ("Ann Lee (620101)"), so the trail reads the same after a rename
    "actor_label" TEXT NOT NULL,
    -- What: "adjustment.member", "settlement.confirm", "approval.approve"… (see docs/audit.md)
    "action" TEXT NOT NULL,
    "target_type" TEXT NOT NULL,
    "target_id" TEXT NOT NULL,
    -- The club the action concerns, when there is one: its officers see the row
    "organisation_id" INTEGER,
    "before" JSONB,
    "after" JSONB,
    "request_id" TEXT,
    "client_ip" TEXT,
    CONSTRAINT "audit_events_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "audit_events_action" CHECK ("action" ~ '^[a-z0-9_]+(\.[a-z0-9_]+)+$'),
    CONSTRAINT "audit_events_actor" CHECK ("actor_user_id" IS NOT NULL OR "actor_label" LIKE 'cli:%')
);
ALTER TABLE "audit_events" ADD CONSTRAINT "audit_events_actor_user_id_fkey"
    FOREIGN KEY ("actor_user_id") REFERENCES "users"("id") ON DELETE RESTRICT ON UPDATE RESTRICT;
ALTER TABLE "audit_events" ADD CONSTRAINT "audit_events_organisation_id_fkey"
    FOREIGN KEY ("organisation_id") REFERENCES "organisations"("id") ON DELETE RESTRICT ON UPDATE RESTRICT;
CREATE INDEX "audit_events_occurred_at_idx" ON "audit_events"("occurred_at", "id");
CREATE INDEX "audit_events_organisation_id_idx" ON "audit_events"("organisation_id", "id")
    WHERE "organisation_id" IS NOT NULL;
CREATE INDEX "audit_events_actor_user_id_idx" ON "audit_events"("actor_user_id", "id");
CREATE INDEX "audit_events_target_idx" ON "audit_events"("target_type", "target_id");

CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_events is append-only: % is not allowed', TG_OP USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER "audit_events_no_change" BEFORE UPDATE OR DELETE ON "audit_events"
    FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();
CREATE TRIGGER "audit_events_no_truncate" BEFORE TRUNCATE ON "audit_events"
    FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only();

-- Thresholds above which a money move waits for a second finance editor (cents). Adjustments (member or club,
-- either sign) and admin refunds above approval_threshold_cents; settlement confirmations whose gross total is
-- above settlement_approval_threshold_cents.
ALTER TABLE "payment_settings" ADD COLUMN "approval_threshold_cents" BIGINT NOT NULL DEFAULT 50000;
ALTER TABLE "payment_settings" ADD COLUMN "settlement_approval_threshold_cents" BIGINT NOT NULL DEFAULT 1000000;
ALTER TABLE "payment_settings" ADD CONSTRAINT "payment_settings_approval_thresholds"
    CHECK ("approval_threshold_cents" >= 0 AND "settlement_approval_threshold_cents" >= 0);

-- A money move waiting for a second finance editor. `payload` is what the requester confirmed (the service's
-- input); approving runs the same service with it, under the key "approval:<id>", so it books at most once.
-- pending → approving (one approver's claim, a single UPDATE … WHERE status = 'pending') → approved | failed;
-- pending → rejected. A pending request past expires_at is expired (shown so, never approvable).
CREATE TABLE "approval_requests" (
    "id" SERIAL NOT NULL,
    "kind" TEXT NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'pending',
    -- The requesting form's id: the same form submitted twice makes one request
    "request_key" TEXT NOT NULL,
    "summary" TEXT NOT NULL,
    "amount_cents" BIGINT NOT NULL,
    "organisation_id" INTEGER,
    "target_user_id" INTEGER,
    "payload" JSONB NOT NULL,
    "requested_by_user_id" INTEGER NOT NULL,
    "requested_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expires_at" TIMESTAMPTZ(6) NOT NULL,
    "decided_by_user_id" INTEGER,
    "decided_at" TIMESTAMPTZ(6),
    -- Why booking failed at approval time (a rule that no longer holds), or the rejecting editor's note
    "outcome" TEXT,
    CONSTRAINT "approval_requests_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "approval_requests_kind" CHECK ("kind" IN ('member_adjustment', 'org_adjustment', 'org_settlement',
                                                          'admin_refund', 'settlement_batch')),
    CONSTRAINT "approval_requests_status" CHECK ("status" IN ('pending', 'approving', 'approved', 'rejected', 'failed')),
    CONSTRAINT "approval_requests_decider" CHECK (
      ("status" = 'pending') = ("decided_by_user_id" IS NULL)
      AND "decided_by_user_id" IS DISTINCT FROM "requested_by_user_id")
);
CREATE UNIQUE INDEX "approval_requests_request_key_key" ON "approval_requests"("request_key");
CREATE INDEX "approval_requests_status_idx" ON "approval_requests"("status", "id");
ALTER TABLE "approval_requests" ADD CONSTRAINT "approval_requests_requested_by_user_id_fkey"
    FOREIGN KEY ("requested_by_user_id") REFERENCES "users"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
ALTER TABLE "approval_requests" ADD CONSTRAINT "approval_requests_decided_by_user_id_fkey"
    FOREIGN KEY ("decided_by_user_id") REFERENCES "users"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
ALTER TABLE "approval_requests" ADD CONSTRAINT "approval_requests_organisation_id_fkey"
    FOREIGN KEY ("organisation_id") REFERENCES "organisations"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
