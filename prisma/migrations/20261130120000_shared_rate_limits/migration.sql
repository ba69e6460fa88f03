-- Rate-limit counters shared by every app process (the API's per-key limit, failed sign-ins), so N processes or
-- N containers enforce one limit rather than N. UNLOGGED: a counter is worth no WAL flush per request, and after
-- a crash PostgreSQL empties the table, which only restarts the current windows.
CREATE UNLOGGED TABLE "rate_limit_hits" (
    "key" TEXT NOT NULL,
    "hits" INTEGER NOT NULL,
    "reset_at" TIMESTAMPTZ(6) NOT NULL,

    CONSTRAINT "rate_limit_hits_pkey" PRIMARY KEY ("key")
);
