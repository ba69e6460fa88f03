// The posting engine's front door. Concurrent postings are grouped: while a batch is being booked, new
// postings queue, and the next batch books them all in one transaction (group commit). A lone posting never
// waits; under load many postings share one commit and one lock acquisition, which is what keeps a hot club
// account fast (docs/ledger.md). A batch is booked in one statement when it can (book-at-once.ts), otherwise
// the careful way (book-postings.ts). Deadlocks cannot happen (locks are taken in id order), but a serialization
// failure or a key race is retried; one bad posting never fails its neighbours.
import pg from "pg";
import { isConnectionLost, surviveConnectionLoss } from "../../db/connection-loss";
import { bookAtOnce } from "./book-at-once";
import { bookPostings } from "./book-postings";
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
    let lost = false;
    try {
      return await bookPostings(client, postings, { ownTransaction: true, accountCache });
    } catch (e) {
      lost = isConnectionLost(e);
      if (!lost) await client.query("ROLLBACK").catch(() => {});
      const code = (e as { code?: string }).code;
      if (!code || !RETRYABLE.has(code) || attempt >= 5) throw e;
    } finally {
      client.release(lost); // a lost connection is discarded, never reused
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
  /** Batches booked, postings in them, and batches booked in one statement (the rest went the careful way). */
  readonly stats = { batches: 0, postings: 0, atOnce: 0 };
  /** "u<user id>" / "o<organisation id>" / "s<code>" → account id, learnt from bookings. */
  private readonly accountCache = new Map<string, number>();

  /**
   * The engine's own connections, set up for what it runs: short key look-ups whose plans are made once
   * (a generic plan: planning the one-statement booking would otherwise cost more than running it) and never
   * a sequential scan (which a plan made while a table was still small could otherwise keep).
   */
  private readonly conns: pg.Pool;

  constructor(pool: pg.Pool, opts: LedgerWriterOptions = {}) {
    this.connections = opts.connections ?? 2;
    this.maxBatch = opts.maxBatch ?? 64;
    this.lingerBelow = opts.lingerBelow ?? 8;
    this.lingerMs = opts.lingerMs ?? 1;
    // A connection lost to a database restart is dropped, and a new one opened for the next batch.
    this.conns = surviveConnectionLoss(
      new pg.Pool({
        ...pool.options,
        max: this.connections,
        options: "-c plan_cache_mode=force_generic_plan -c enable_seqscan=off",
        allowExitOnIdle: true,
      }),
    );
  }

  /** Closes the engine's connections (postings still queued are booked first). */
  async close(): Promise<void> {
    while (this.queue.length > 0 || this.inFlight > 0) await new Promise((r) => setTimeout(r, 5));
    if (!this.conns.ended) await this.conns.end();
  }

  /** Books one posting (in a transaction possibly shared with concurrent postings). */
  post(input: PostingInput): Promise<PostingResult> {
    return new Promise((resolve, reject) => {
      this.queue.push({ input, resolve, reject });
      this.pump();
    });
  }

  private lingering: NodeJS.Timeout | null = null;

  private pump() {
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
  }

  /**
   * Books a batch on one of the engine's connections: in one statement when it can (`bookAtOnce`), otherwise —
   * a refusal, a replay, a message to write, an approved overdraft, or a failure there — the careful way.
   */
  private async bookBatch(inputs: PostingInput[]): Promise<PostingResult[]> {
    const client = await this.conns.connect();
    let broken: Error | undefined;
    try {
      const fast = await bookAtOnce(client, inputs, this.accountCache).catch((e: unknown) => {
        if (!statementFailed(e)) throw e; // the connection failed, not the statement
        return null;
      });
      this.stats.batches += 1;
      this.stats.postings += inputs.length;
      if (fast) {
        this.stats.atOnce += 1;
        return fast;
      }
      return await bookPostings(client, inputs, { ownTransaction: true, accountCache: this.accountCache });
    } catch (e) {
      if (statementFailed(e)) await client.query("ROLLBACK").catch(() => {});
      else broken = e instanceof Error ? e : new Error(String(e));
      throw e;
    } finally {
      client.release(broken);
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
          bookInOwnTransaction(this.conns, [p.input], this.accountCache).then(
            (r) => p.resolve(r[0]!),
            (e) => p.reject(e),
          ),
        ),
      );
    }
  }
}

/**
 * True when the database answered a statement with an error; false when the connection failed — including the
 * server ending the session (57P01 and the like arrive as database errors, but leave the connection dead).
 */
function statementFailed(e: unknown): boolean {
  return e instanceof pg.DatabaseError && !isConnectionLost(e);
}
