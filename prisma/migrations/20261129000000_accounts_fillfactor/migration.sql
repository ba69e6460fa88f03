-- Every posting updates the balance of each account it touches, so an account row gets a new version per
-- posting. Those updates stay HOT (no index changes: no indexed column changes), but a full page must be pruned
-- before it can take the next version, and pruning walks every row on the page. Keeping four fifths of each page
-- free means far fewer rows per page and far fewer prunings per update: about 5-10 % less database time per
-- payment in the posting engine's measurements (docs/ledger.md). The table is small (one row per member, club
-- and system account), so the space costs little. CLUSTER rewrites the existing rows with the new setting.
ALTER TABLE "accounts" SET (fillfactor = 20);
CLUSTER "accounts" USING "accounts_pkey";
