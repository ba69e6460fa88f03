// The posting engine's front door. Concurrent postings are grouped: while a batch is being booked, new
// postings queue, and the next batch books them all in one transaction (group commit). A lone posting never
// waits; under load many postings share one commit and one lock acquisition, which is what keeps a hot club
// account fast (docs/ledger.md). Deadlocks cannot happen (locks are taken in id order), but a serialization
// failure or a key race is retried; one bad posting never fails its neighbours.
import type pg from "pg";
import { BEGIN_LEDGER, bookPostings } from "./book-postings";
import type { PostingInput, PostingResult } from "./posting";

export interface LedgerWriterOptions {
  /** Batches in flight at once (each holds one connection while it runs). */
  connections?: number;
  /** Most postings in one batch. */
  maxBatch?: number;
  /** While a batch is in flight, fewer queued postings than this wait up to `lingerMs` before a new batch. */
  lingerBelow?: number;
  lingerMs?: number;
}

interface Pending {
  input: PostingInput;
  resolve: (r: PostingResult) => void;
  reject: (e: unknown) => void;
}

const RETRYABLE = new Set(["40001", "40P01"]); // serialization failure / key race, deadlock

/** Books postings in a transaction of their own, retrying what may be retried. */
export async function bookInOwnTransaction(
  pool: pg.Pool,
  postings: PostingInput[],
  accountCache?: Map<string, number>,
): Promise<PostingResult[]> {
  for (let attempt = 1; ; attempt++) {
    const client = await pool.connect();
    try {
      return await bookPostings(client, postings, { ownTransaction: true, accountCache });
    } catch (e) {
      await client.query("ROLLBACK").catch(() => {});
      const code = (e as { code?: string }).code;
      if (!code || !RETRYABLE.has(code) || attempt >= 5) throw e;
    } finally {
      client.release();
    }
  }
}

export class LedgerWriter {
  private queue: Pending[] = [];
  private inFlight = 0;
  private readonly connections: number;
  private readonly maxBatch: number;
  private readonly lingerBelow: number;
  private readonly lingerMs: number;
  /** "u<user id>" / "o<organisation id>" / "s<code>" → account id, learnt from bookings. */
  private readonly accountCache = new Map<string, number>();

  constructor(
    private readonly pool: pg.Pool,
    opts: LedgerWriterOptions = {},
  ) {
    this.connections = opts.connections ?? 2;
    this.maxBatch = opts.maxBatch ?? 64;
    this.lingerBelow = opts.lingerBelow ?? 8;
    this.lingerMs = opts.lingerMs ?? 1;
  }

  /** Books one posting (in a transaction possibly shared with concurrent postings). */
  post(input: PostingInput): Promise<PostingResult> {
    return new Promise((resolve, reject) => {
      this.queue.push({ input, resolve, reject });
      this.pump();
    });
  }

  private lingering: NodeJS.Timeout | null = null;
  /** Connections whose next transaction is already open (committed their batch with "COMMIT; BEGIN"). */
  private readonly open: pg.PoolClient[] = [];

  private pump() {
    if (this.queue.length === 0 && this.inFlight === 0) this.closeOpen();
    while (this.inFlight < this.connections && this.queue.length > 0) {
      // With a batch already in flight, a few queued postings wait a moment for company: fuller batches mean
      // fewer transactions per posting. A lone posting on an idle engine never waits.
      if (this.inFlight > 0 && this.queue.length < this.lingerBelow) {
        this.lingering ??= setTimeout(() => {
          this.lingering = null;
          this.pumpNow();
        }, this.lingerMs);
        return;
      }
      this.startBatch();
    }
  }

  /** Starts batches without lingering (the linger timer has run out). */
  private pumpNow() {
    while (this.inFlight < this.connections && this.queue.length > 0) this.startBatch();
    if (this.queue.length === 0 && this.inFlight === 0) this.closeOpen();
  }

  /** No more work: end the transactions opened in advance and give their connections back. */
  private closeOpen() {
    for (const client of this.open.splice(0)) {
      client.query("COMMIT").then(
        () => client.release(),
        (e) => client.release(e),
      );
    }
  }

  /**
   * Books a batch on a connection of its own. When more postings are waiting as it commits, the next
   * transaction is opened in the same round trip ("COMMIT; BEGIN") and the connection kept for them.
   */
  private async bookBatch(inputs: PostingInput[]): Promise<PostingResult[]> {
    const reused = this.open.pop();
    const client = reused ?? (await this.pool.connect());
    let keep = false;
    try {
      const results = await bookPostings(client, inputs, {
        ownTransaction: true,
        alreadyBegun: !!reused,
        accountCache: this.accountCache,
        end: () => {
          keep = this.queue.length > 0 && this.open.length < this.connections;
          return keep ? `COMMIT; ${BEGIN_LEDGER}` : "COMMIT";
        },
      });
      return results;
    } catch (e) {
      keep = false;
      await client.query("ROLLBACK").catch(() => {});
      throw e;
    } finally {
      if (keep) this.open.push(client);
      else client.release();
    }
  }

  private startBatch() {
    const batch: Pending[] = [];
    while (batch.length < this.maxBatch && this.queue.length > 0) {
      const next = this.queue[0]!;
      // An approved overdraft switches off a database guard for its transaction, so it never shares one.
      if (next.input.allowOverdraft && batch.length > 0) break;
      batch.push(this.queue.shift()!);
      if (next.input.allowOverdraft) break;
    }
    this.inFlight++;
    void this.flush(batch).finally(() => {
      this.inFlight--;
      this.pump();
    });
  }

  private async flush(batch: Pending[]) {
    try {
      const results = await this.bookBatch(batch.map((p) => p.input));
      for (const [i, p] of batch.entries()) p.resolve(results[i]!);
    } catch {
      // Book each on its own, retrying serialization failures (a key booked concurrently answers as a replay),
      // so only a posting at fault fails.
      await Promise.all(
        batch.map((p) =>
          bookInOwnTransaction(this.pool, [p.input], this.accountCache).then(
            (r) => p.resolve(r[0]!),
            (e) => p.reject(e),
          ),
        ),
      );
    }
  }
}
