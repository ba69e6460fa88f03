-- Checkout charges still pending, oldest first: what the scheduled expiry job (checkout-expiry.ts) scans every
-- minute. Partial, so it stays as small as the number of open checkouts.
CREATE INDEX "api_charges_pending_created_at_idx" ON "api_charges" ("created_at") WHERE "status" = 'pending';
