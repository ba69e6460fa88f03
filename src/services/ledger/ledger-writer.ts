// The posting engine. Every posting goes through the `ledger_post` SQL function, which locks the touched
// accounts in id order, checks funds under the lock, and writes entries, running balances and balances in one
// statement. On top of that, concurrent postings are grouped: while a batch is in flight, new postings queue,
// and the next batch books them all in one transaction (group commit). A lone posting never waits; under load
// many postings share one commit, which is what keeps a hot club account fast (see docs/ledger.md).
import type pg from "pg";
import { fromSqlResult, type SqlResultRow, toSqlPosting } from "./ledger-sql";
import type { PostingInput, PostingResult } from "./posting";

export interface LedgerWriterOptions {
  /** Batches in flight at once (each holds one connection while it runs). */
  connections?: number;
  /** Most postings in one batch. */
  maxBatch?: number;
}

interface Pending {
  sql: Record<string, unknown>;
  alone: boolean;
  resolve: (r: PostingResult) => void;
  reject: (e: unknown) => void;
}

/** Anything that can run a query: a pool, a client inside a transaction. */
export interface Queryable {
  query: pg.Pool["query"];
}

const RETRYABLE = new Set(["40001", "40P01"]); // serialization failure, deadlock

export async function runLedgerPost(q: Queryable, batch: Record<string, unknown>[]): Promise<PostingResult[]> {
  const res = await q.query<SqlResultRow>("SELECT idx, status, posting_id, detail FROM ledger_post($1::jsonb)", [
    JSON.stringify(batch),
  ]);
  const out: PostingResult[] = new Array(batch.length);
  for (const row of res.rows) out[row.idx] = fromSqlResult(row);
  return out;
}

export class LedgerWriter {
  private queue: Pending[] = [];
  private inFlight = 0;
  private readonly connections: number;
  private readonly maxBatch: number;

  constructor(
    private readonly pool: pg.Pool,
    opts: LedgerWriterOptions = {},
  ) {
    this.connections = opts.connections ?? 2;
    this.maxBatch = opts.maxBatch ?? 64;
  }

  /** Books one posting (its own transaction, possibly shared with concurrent postings). */
  post(input: PostingInput): Promise<PostingResult> {
    const sql = toSqlPosting(input);
    return new Promise((resolve, reject) => {
      // An approved overdraft switches off a database guard for its transaction, so it never shares one.
      this.queue.push({ sql, alone: !!input.allowOverdraft, resolve, reject });
      this.pump();
    });
  }

  private pump() {
    while (this.inFlight < this.connections && this.queue.length > 0) {
      const batch: Pending[] = [];
      while (batch.length < this.maxBatch && this.queue.length > 0) {
        const next = this.queue[0]!;
        if (next.alone && batch.length > 0) break;
        batch.push(this.queue.shift()!);
        if (next.alone) break;
      }
      this.inFlight++;
      void this.flush(batch).finally(() => {
        this.inFlight--;
        this.pump();
      });
    }
  }

  private async flush(batch: Pending[]) {
    try {
      const results = await this.withRetry(batch.map((p) => p.sql));
      for (const [i, p] of batch.entries()) p.resolve(results[i]!);
    } catch (err) {
      if (batch.length === 1) {
        batch[0]!.reject(err);
        return;
      }
      // One bad posting must not fail its neighbours: book each on its own.
      await Promise.all(
        batch.map((p) =>
          this.withRetry([p.sql]).then(
            (r) => p.resolve(r[0]!),
            (e) => p.reject(e),
          ),
        ),
      );
    }
  }

  private async withRetry(sql: Record<string, unknown>[]): Promise<PostingResult[]> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await runLedgerPost(this.pool, sql);
      } catch (e) {
        const code = (e as { code?: string }).code;
        if (!code || !RETRYABLE.has(code) || attempt >= 5) throw e;
      }
    }
  }
}
