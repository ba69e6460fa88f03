// Idempotent POSTs with Stripe's semantics (issue 16). A request's Idempotency-Key is claimed with its
// fingerprint (method, path, body); the finished answer is stored byte for byte and given back to a retry with
// the same body. While the first is running, its row holds a lease that the running request keeps extending:
// a retry meanwhile gets 409; a request that died (crash, kill -9) stops extending it, and once it runs out the
// retry runs the request again — the ledger's own keys, derived from the same Idempotency-Key, then book
// nothing a second time.
import { createHash } from "node:crypto";
import type pg from "pg";

export const JSON_TYPE = "application/json";

export interface StoredResponse {
  status: number;
  contentType: string;
  body: string;
}

export type Claim =
  | { kind: "claimed"; lease: Lease }
  | { kind: "replay"; response: StoredResponse }
  | { kind: "conflict" }
  | { kind: "in_progress" };

export function requestFingerprint(method: string, path: string, body: Buffer | string) {
  return createHash("sha256").update(`${method} ${path}\n`).update(body).digest("hex");
}

interface Row {
  fingerprint: string;
  locked_until: Date | null;
  response_status: number | null;
  response_type: string | null;
  response_body: string | null;
}

export class IdempotencyStore {
  constructor(
    private readonly pool: pg.Pool,
    /** How long a claim holds without being extended. */
    private readonly leaseMs: number,
  ) {}

  async claim(keyId: number, idempotencyKey: string, fingerprint: string): Promise<Claim> {
    const interval = `${this.leaseMs} milliseconds`;
    const inserted = await this.pool.query(
      `INSERT INTO api_idempotency (api_key_id, idempotency_key, fingerprint, locked_until)
       VALUES ($1, $2, $3, now() + $4::interval) ON CONFLICT DO NOTHING`,
      [keyId, idempotencyKey, fingerprint, interval],
    );
    if (inserted.rowCount === 1) return { kind: "claimed", lease: this.lease(keyId, idempotencyKey) };

    const { rows } = await this.pool.query<Row>(
      `SELECT fingerprint, locked_until, response_status, response_type, response_body
         FROM api_idempotency WHERE api_key_id = $1 AND idempotency_key = $2`,
      [keyId, idempotencyKey],
    );
    const row = rows[0];
    if (!row) return this.claim(keyId, idempotencyKey, fingerprint); // released meanwhile: try again
    if (row.fingerprint !== fingerprint) return { kind: "conflict" };
    if (row.response_status !== null) {
      return {
        kind: "replay",
        response: { status: row.response_status, contentType: row.response_type!, body: row.response_body! },
      };
    }
    // Still running, or left by a request that died: take it over only once its lease has run out.
    const taken = await this.pool.query(
      `UPDATE api_idempotency SET locked_until = now() + $3::interval
        WHERE api_key_id = $1 AND idempotency_key = $2 AND response_status IS NULL AND locked_until < now()`,
      [keyId, idempotencyKey, interval],
    );
    return taken.rowCount === 1
      ? { kind: "claimed", lease: this.lease(keyId, idempotencyKey) }
      : { kind: "in_progress" };
  }

  private lease(keyId: number, idempotencyKey: string): Lease {
    return new Lease(this.pool, keyId, idempotencyKey, this.leaseMs);
  }
}

/** A claimed key: extended while the request runs, then completed with the answer or released. */
export class Lease {
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly pool: pg.Pool,
    private readonly keyId: number,
    private readonly idempotencyKey: string,
    leaseMs: number,
  ) {
    this.timer = setInterval(
      () => {
        this.pool
          .query(
            `UPDATE api_idempotency SET locked_until = now() + $3::interval
            WHERE api_key_id = $1 AND idempotency_key = $2 AND response_status IS NULL`,
            [this.keyId, this.idempotencyKey, `${leaseMs} milliseconds`],
          )
          .catch(() => {}); // a missed extension only shortens the lease
      },
      Math.max(50, Math.floor(leaseMs / 3)),
    );
    this.timer.unref();
  }

  /** Stores the answer; from now on a retry with the same body gets exactly these bytes. */
  async complete(response: StoredResponse) {
    clearInterval(this.timer);
    await this.pool.query(
      `UPDATE api_idempotency
          SET response_status = $3, response_type = $4, response_body = $5, locked_until = NULL, completed_at = now()
        WHERE api_key_id = $1 AND idempotency_key = $2`,
      [this.keyId, this.idempotencyKey, response.status, response.contentType, response.body],
    );
  }

  /** Forgets the claim (the request failed on our side): a retry runs it again. */
  async release() {
    clearInterval(this.timer);
    await this.pool
      .query("DELETE FROM api_idempotency WHERE api_key_id = $1 AND idempotency_key = $2 AND response_status IS NULL", [
        this.keyId,
        this.idempotencyKey,
      ])
      .catch(() => {});
  }
}
