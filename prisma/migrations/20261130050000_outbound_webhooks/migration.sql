-- Outbound webhooks (issue 16): receivers' endpoints, the events outbox and one delivery row per event × endpoint.
-- Delivery jobs themselves live in pg-boss's own schema ("pgboss"), created by pg-boss at start.

CREATE TABLE "webhook_endpoints" (
    "id" SERIAL NOT NULL,
    -- NULL: federation-wide (receives every organisation's events).
    "organisation_id" INTEGER,
    "url" TEXT NOT NULL,
    "description" TEXT NOT NULL DEFAULT '',
    "event_types" TEXT[] NOT NULL,
    -- The HMAC key; it must be readable to sign each delivery, so it cannot be hashed (docs/webhooks-out.md).
    "secret" TEXT NOT NULL,
    "enabled" BOOLEAN NOT NULL DEFAULT true,
    "created_by_user_id" INTEGER,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "webhook_endpoints_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "webhook_endpoints_events_chk" CHECK (cardinality("event_types") > 0),
    CONSTRAINT "webhook_endpoints_secret_chk" CHECK ("secret" LIKE 'whsec\_%')
);
CREATE INDEX "webhook_endpoints_organisation_id_idx" ON "webhook_endpoints"("organisation_id");
ALTER TABLE "webhook_endpoints" ADD CONSTRAINT "webhook_endpoints_organisation_id_fkey"
    FOREIGN KEY ("organisation_id") REFERENCES "organisations"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "webhook_endpoints" ADD CONSTRAINT "webhook_endpoints_created_by_user_id_fkey"
    FOREIGN KEY ("created_by_user_id") REFERENCES "users"("id") ON DELETE SET NULL ON UPDATE CASCADE;

CREATE TABLE "outbound_events" (
    "id" BIGSERIAL NOT NULL,
    "public_id" TEXT NOT NULL,
    "type" TEXT NOT NULL,
    "organisation_id" INTEGER,
    "payload" JSONB NOT NULL,
    -- What caused the event (e.g. "iou.created:42"): a replayed change writes no second event.
    "source_key" TEXT,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    -- Set by the dispatcher once the event's deliveries exist.
    "dispatched_at" TIMESTAMPTZ(6),
    CONSTRAINT "outbound_events_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "outbound_events_type_chk" CHECK ("type" IN ('charge.succeeded', 'charge.failed', 'checkout.completed',
        'checkout.expired', 'iou.created', 'iou.paid', 'iou.cancelled', 'refund.succeeded'))
);
CREATE UNIQUE INDEX "outbound_events_public_id_key" ON "outbound_events"("public_id");
CREATE UNIQUE INDEX "outbound_events_source_key_key" ON "outbound_events"("source_key");
-- The dispatcher's queue: only undispatched events are indexed, so the index stays small.
CREATE INDEX "outbound_events_undispatched_idx" ON "outbound_events"("id") WHERE "dispatched_at" IS NULL;

CREATE TABLE "webhook_deliveries" (
    "id" BIGSERIAL NOT NULL,
    "event_id" BIGINT NOT NULL,
    "endpoint_id" INTEGER NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'pending',
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "last_response_code" INTEGER,
    "last_error" TEXT,
    "last_attempt_at" TIMESTAMPTZ(6),
    "next_attempt_at" TIMESTAMPTZ(6),
    "delivered_at" TIMESTAMPTZ(6),
    -- The pg-boss job that may attempt this delivery now; an older job (superseded by a re-send) does nothing.
    "job_id" UUID,
    -- A re-send asked for on the page; the dispatcher turns it into a job.
    "resend_requested_at" TIMESTAMPTZ(6),
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "webhook_deliveries_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "webhook_deliveries_status_chk" CHECK ("status" IN ('pending', 'succeeded', 'failed'))
);
CREATE UNIQUE INDEX "webhook_deliveries_event_id_endpoint_id_key" ON "webhook_deliveries"("event_id", "endpoint_id");
CREATE INDEX "webhook_deliveries_endpoint_id_id_idx" ON "webhook_deliveries"("endpoint_id", "id");
CREATE INDEX "webhook_deliveries_resend_idx" ON "webhook_deliveries"("id") WHERE "resend_requested_at" IS NOT NULL;
ALTER TABLE "webhook_deliveries" ADD CONSTRAINT "webhook_deliveries_event_id_fkey"
    FOREIGN KEY ("event_id") REFERENCES "outbound_events"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "webhook_deliveries" ADD CONSTRAINT "webhook_deliveries_endpoint_id_fkey"
    FOREIGN KEY ("endpoint_id") REFERENCES "webhook_endpoints"("id") ON DELETE CASCADE ON UPDATE CASCADE;
