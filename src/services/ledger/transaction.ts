// A database transaction on one pooled connection, for the card flows that must change a card record and the
// ledger together. Callers never call the card processor inside one (decision 3).
import type pg from "pg";
import { isConnectionLost } from "../../db/connection-loss";
import { bookPostings, type TxClient } from "./book-postings";
import type { EntryInput, PostingInput, PostingResult } from "./posting";
import type { TransactionType } from "./transaction-types";

export async function inTransaction<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let lost = false;
  try {
    await client.query("BEGIN");
    const out = await fn(client);
    await client.query("COMMIT");
    return out;
  } catch (e) {
    lost = isConnectionLost(e);
    if (!lost) await client.query("ROLLBACK").catch(() => {});
    throw e;
  } finally {
    client.release(lost); // a lost connection is discarded, never reused
  }
}

/** Books one posting inside the caller's transaction. */
export async function bookInTransaction(client: TxClient, posting: PostingInput): Promise<PostingResult> {
  const [result] = await bookPostings(client, [posting]);
  return result!;
}

/**
 * Books one step of a process Stripe drives (a payout, a dispute) inside the caller's transaction: booked now or
 * already booked under the same key; anything else is a fault that rolls the transaction back. Answers the id.
 */
export async function bookSystemStep(
  client: TxClient,
  key: string,
  type: TransactionType,
  description: string,
  entries: EntryInput[],
) {
  const r = await bookInTransaction(client, { idempotencyKey: key, type, description, entries });
  if (r.status !== "POSTED" && r.status !== "DUPLICATE") throw new Error(`${key}: not booked (${r.status})`);
  return r.postingId.toString();
}
