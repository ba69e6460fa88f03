// POST /charges the fast way (issue 16): concurrent API charges share one transaction and one commit — their
// Idempotency-Key records, postings, charge rows, outbound events and stored answers all written together, as
// the ledger engine groups postings (ledger-writer.ts). While a group is being written, new charges queue for
// the next one. A group is two round trips whatever its size: BEGIN and the claim (member and organisation
// resolved, the charge key checked unused, the Idempotency-Keys inserted); then the booking (book-at-once.ts's
// one statement), the charges, answers and events written, and COMMIT. Each goes as one simple-protocol query
// (values written in as literals: inline-sql.ts), which is what makes it one round trip; the accounts' locks are
// held only during the second. When the balances the claim read say the one-statement booking would refuse
// (a member short of money or of the low-balance threshold), or it refuses after all (the write, finding a
// posting missing, fails the transaction, which is rolled back), the group is claimed again and booked the
// careful way (book-postings.ts): three round trips, the write and COMMIT last.
//
// Only the plain case rides a group: a charge to an organisation with when_insufficient "fail", whose key was
// never used, that books. Everything else — a key used before (replay, 422, 409), a member or organisation
// that does not resolve, a balance that does not cover the charge (an auto top-up may rescue it: a card payment,
// outside any transaction), iou/checkout, a payee member — leaves the group before it commits (its claim undone
// in the same transaction) and is then run alone the step-by-step way (idempotentPost → runCharge), which gives
// it its exact answer. So does the whole group if its transaction fails: nothing of it was written.
//
// Idempotency is unchanged for callers: a grouped charge's record is written with its answer in one commit, so
// it is never seen "running"; a same key arriving meanwhile waits on the uncommitted record and then replays it.
// A process that dies mid-group leaves the group whole (its last query, COMMIT included, was already sent) or
// not at all: either way the retry is answered at once.
import pg from "pg";
import { isConnectionLost, surviveConnectionLoss } from "../../db/connection-loss";
import { type InlineValue, inlineSql } from "../../db/inline-sql";
import { atOnceStatement, bookAtOnce } from "../ledger/book-at-once";
import { bookPostings } from "../ledger/book-postings";
import type { PostingInput } from "../ledger/posting";
import { newReferenceNo } from "../ledger/reference-no";
import { organisationPayment } from "../payments/payment-api-batch";
import type { ApiServices } from "./api-services";
import type { ChargeCaller } from "./api-services";
import { type ChargeRow, type ChargeView, chargeEvent, chargeView } from "./charge-records";
import { JSON_TYPE, type StoredResponse } from "./idempotency";
import type { ApiCaller } from "./keys";
import type { ChargeRequest } from "./schemas";

export interface GroupOptions {
  /** Groups in flight at once (each holds one connection). */
  connections?: number;
  /** Most charges in one group. */
  maxGroup?: number;
}

export interface GroupedCharge {
  caller: ApiCaller;
  req: ChargeRequest;
  idempotencyKey: string;
  fingerprint: string;
}

/** An item of a batch: booked under its own charge key, with no Idempotency-Key record of its own. */
export interface GroupedItem {
  caller: ChargeCaller;
  req: ChargeRequest;
  chargeKey: string;
}

interface Booked {
  answer: StoredResponse;
  view: ChargeView;
}

/** The charges a group booked, with what runs once it has committed. */
type Answered = Map<Pending, Booked & { booked: () => Promise<void> }>;

interface Pending {
  caller: ChargeCaller;
  req: ChargeRequest;
  chargeKey: string;
  /** Null for a batch item. */
  idempotencyKey: string | null;
  fingerprint: string | null;
  /** The booked charge, or null: run it the step-by-step way. */
  resolve: (booked: Booked | null) => void;
}

// Resolves member and organisation as resolveParties does (an organisation key: its own organisation, or the one
// it names if that is its own), checks the charge key unused by any charge or posting, and claims the
// Idempotency-Keys that pass (in key order, so two groups never wait on each other's claims in a cycle). Answers
// the claimed ones, with a charge id drawn for each, the metadata as jsonb gives it back, and the transaction's
// time (the charge's created_at).
const CLAIM_SQL = `
    WITH r AS MATERIALIZED (
      SELECT r.*, u.id AS user_id, u.is_active, o.id AS org_id, o.club_number,
             -- The key is checked again here, so a key this process cached (ApiKeyCache) cannot outlive its
             -- revocation or expiry: such a charge leaves the group, and its call verifies the key in full.
             (r.key_id IS NULL OR EXISTS (
               SELECT 1 FROM api_keys k WHERE k.id = r.key_id AND k.revoked_at IS NULL
                  AND (k.expires_at IS NULL OR k.expires_at > now()))) AS key_ok
        FROM unnest($1::int[], $2::text[], $3::text[], $4::text[], $5::int[], $6::text[], $7::int[], $8::jsonb[])
             WITH ORDINALITY AS r(key_id, idem, fp, charge_key, member, club, caller_org, meta, ord)
        LEFT JOIN users u ON u.system_number = r.member
        LEFT JOIN LATERAL (
          SELECT id, club_number FROM organisations WHERE club_number = r.club
          UNION ALL
          SELECT id, club_number FROM organisations WHERE r.club IS NULL AND id = r.caller_org) o ON true),
    ok AS MATERIALIZED (
      SELECT * FROM r
       WHERE r.key_ok AND r.is_active AND r.org_id IS NOT NULL AND (r.caller_org IS NULL OR r.org_id = r.caller_org)
         AND NOT EXISTS (SELECT 1 FROM api_charges c WHERE c.charge_key = r.charge_key)
         AND NOT EXISTS (SELECT 1 FROM postings p WHERE p.idempotency_key = r.charge_key)),
    ins AS (
      INSERT INTO api_idempotency (api_key_id, idempotency_key, fingerprint)
      SELECT key_id, idem, fp FROM ok WHERE idem IS NOT NULL ORDER BY key_id, idem
      ON CONFLICT DO NOTHING RETURNING api_key_id, idempotency_key)
    SELECT ok.ord::int AS ord, ok.user_id, ok.org_id, ok.club_number, ok.meta,
           nextval('api_charges_id_seq')::int AS charge_id, now() AS created,
           (SELECT balance_cents FROM accounts WHERE user_id = ok.user_id)::text AS balance
      FROM ok LEFT JOIN ins ON ins.api_key_id = ok.key_id AND ins.idempotency_key = ok.idem
     WHERE ok.idem IS NULL OR ins.idempotency_key IS NOT NULL`;

// The booked charges and their stored answers; the claims of those that leave the group are undone. Each
// charge's posting (booked under its charge key in this transaction) and the member's balance after it are read
// here, so the booking may go in the same query just before: the answer is written as its text around the
// balance (pre, balance, suf; suf null: a key that may not read balances, the answer is pre alone). Fails (and so
// nothing of the group is kept) unless every charge was booked and got its row and its answer — a booking that
// wrote nothing (the one-statement booking's verdict said no) fails it here, before the COMMIT that follows in
// the same query. Answers each charge's id, posting and balance.
const WRITE_SQL = `
    WITH x AS MATERIALIZED (
      SELECT x.*, p.id AS posting,
             (SELECT e.balance_after_cents FROM entries e JOIN accounts a ON a.id = e.account_id
               WHERE e.posting_id = p.id AND a.user_id = x.user_id) AS bal
        FROM unnest($1::int[], $2::text[], $3::int[], $4::bigint[], $5::int[], $6::int[], $7::text[], $8::text[],
                    $9::int[], $10::int[], $11::jsonb[], $12::int[], $13::text[], $14::text[], $15::text[])
             AS x(id, k, key_id, amt, user_id, org_id, d, ref, sid, eid, meta, batch, idem, pre, suf)
        JOIN postings p ON p.idempotency_key = x.k),
    c AS (
      INSERT INTO api_charges (id, charge_key, api_key_id, status, amount_cents, user_id, organisation_id,
                               description, reference, session_id, event_id, metadata, posting_id,
                               balance_after_cents, session_batch_id)
      SELECT id, k, key_id, 'succeeded', amt, user_id, org_id, d, ref, sid, eid, meta, posting, bal, batch FROM x
      RETURNING 1),
    a AS (
      UPDATE api_idempotency i
         SET response_status = 201, response_type = $16, response_body = x.pre || coalesce(x.bal::text || x.suf, ''),
             locked_until = NULL, completed_at = now()
        FROM x
       WHERE x.idem IS NOT NULL AND i.api_key_id = x.key_id AND i.idempotency_key = x.idem
      RETURNING 1),
    d AS (
      DELETE FROM api_idempotency i
       USING unnest($17::int[], $18::text[]) AS u(key_id, idem)
       WHERE i.api_key_id = u.key_id AND i.idempotency_key = u.idem AND i.response_status IS NULL)
    SELECT ledger_expect_booked((SELECT count(*) FROM c), $19) AND ledger_expect_booked((SELECT count(*) FROM a), $20),
           (SELECT string_agg(id || ' ' || posting || ' ' || bal, ',') FROM x) AS booked`;

interface Claimed {
  ord: number;
  user_id: number;
  org_id: number;
  club_number: string;
  meta: Record<string, string>;
  charge_id: number;
  created: Date;
  /** The member's balance when claimed (not locked: only to foresee whether the group books at once). */
  balance: string | null;
}

/** A claimed charge on its way to the write: its posting, and its answer around the balance (see WRITE_SQL). */
interface Item {
  c: Pending;
  claim: Claimed;
  posting: PostingInput;
  booked: (balanceAfterCents: bigint | null) => Promise<void>;
  row: ChargeRow;
  pre: string;
  suf: string | null;
}

const SENTINEL = Number.MAX_SAFE_INTEGER;
const SENTINEL_KEY = `"balance_after":${SENTINEL}`;

/**
 * The answer's text around the balance: `view` written with a sentinel balance and cut there (a JSON key, so
 * it cannot come from the strings inside). Null if the cut is not unambiguous (the charge then runs alone).
 */
function answerParts(view: ChargeView): { pre: string; suf: string | null } | null {
  if (!("balance_after" in view)) return { pre: JSON.stringify(view), suf: null };
  const text = JSON.stringify({ ...view, balance_after: SENTINEL });
  const at = text.indexOf(SENTINEL_KEY);
  if (at < 0 || text.indexOf(SENTINEL_KEY, at + 1) >= 0) return null;
  return {
    pre: text.slice(0, at + SENTINEL_KEY.length - String(SENTINEL).length),
    suf: text.slice(at + SENTINEL_KEY.length),
  };
}

export class ChargeGroupWriter {
  private queue: Pending[] = [];
  private inFlight = 0;
  private readonly connections: number;
  private readonly maxGroup: number;
  private readonly conns: pg.Pool;
  private readonly accountCache = new Map<string, number>();
  /** Groups written, charges booked in them, and charges sent the step-by-step way. */
  readonly stats = { groups: 0, booked: 0, alone: 0 };

  constructor(
    private readonly s: ApiServices,
    opts: GroupOptions = {},
  ) {
    this.connections = opts.connections ?? 2;
    this.maxGroup = opts.maxGroup ?? 64;
    // As the ledger engine's connections: generic plans (planning would cost more than running) and no
    // sequential scans; a connection lost to a database restart is dropped.
    this.conns = surviveConnectionLoss(
      new pg.Pool({
        ...s.p.pool.options,
        max: this.connections,
        options: "-c plan_cache_mode=force_generic_plan -c enable_seqscan=off",
        application_name: "api-charge-groups", // as pg_stat_activity shows them
        allowExitOnIdle: true,
      }),
    );
  }

  /** Charges waiting for a group. */
  get queued() {
    return this.queue.length;
  }

  /**
   * Books the charge in a group and answers its stored answer; null when it is not one for a group (or left
   * it): the caller then runs it the step-by-step way.
   */
  async submit(c: GroupedCharge): Promise<StoredResponse | null> {
    const { req, caller } = c;
    if (req.when_insufficient !== "fail") return null;
    const chargeKey = `api:${caller.keyId}:${c.idempotencyKey}`;
    return (await this.enqueue({ ...c, chargeKey }))?.answer ?? null;
  }

  /**
   * A batch item (batch-charges.ts): booked in a group when its balance covers it — also with
   * when_insufficient "iou", which only matters when it does not — and answered as the charge; null: run it alone.
   */
  async submitItem(c: GroupedItem): Promise<ChargeView | null> {
    if (c.req.when_insufficient === "checkout") return null;
    return (await this.enqueue({ ...c, idempotencyKey: null, fingerprint: null }))?.view ?? null;
  }

  private enqueue(c: Omit<Pending, "resolve">): Promise<Booked | null> {
    if (c.req.payee_member !== undefined) return Promise.resolve(null);
    if (c.req.organisation === undefined && c.caller.organisationId === null) return Promise.resolve(null);
    return new Promise((resolve) => {
      this.queue.push({ ...c, resolve });
      this.pump();
    });
  }

  /** Waits for the groups in flight and queued, then closes the connections. */
  async close() {
    while (this.queue.length > 0 || this.inFlight > 0) await new Promise((r) => setTimeout(r, 5));
    if (!this.conns.ended) await this.conns.end();
  }

  private pump() {
    while (this.inFlight < this.connections && this.queue.length > 0) {
      const group = this.queue.splice(0, this.maxGroup);
      this.inFlight++;
      void this.write(group).finally(() => {
        this.inFlight--;
        this.pump();
      });
    }
  }

  private async write(all: Pending[]) {
    // A key twice in one group: the first runs here, the others alone afterwards (they then replay it).
    const seen = new Set<string>();
    const group = all.filter((c) => !seen.has(c.chargeKey) && seen.add(c.chargeKey));
    const answers = new Map<Pending, Booked & { booked: () => Promise<void> }>();
    const client = await this.conns.connect().catch(() => null);
    let broken: Error | undefined;
    if (client) {
      try {
        for (const [c, a] of await this.book(client, group)) answers.set(c, a);
      } catch (e) {
        answers.clear();
        if (isConnectionLost(e) || !(e instanceof pg.DatabaseError)) broken = e as Error;
        else await client.query("ROLLBACK").catch(() => {});
        this.s.p.logger.warn({ err: e, charges: group.length }, "API charge group failed; its charges run alone");
      } finally {
        client.release(broken);
      }
    }
    this.stats.groups += 1;
    this.stats.booked += answers.size;
    this.stats.alone += all.length - answers.size;
    // Only now, after the commit, may the others run alone (a same key then finds this group's record).
    await Promise.all(
      all.map(async (c) => {
        const done = answers.get(c);
        if (!done) return c.resolve(null);
        await done.booked().catch((err: unknown) => {
          this.s.p.logger.error({ err, chargeKey: c.chargeKey }, "after-payment step of an API charge failed");
        });
        c.resolve(done);
      }),
    );
  }

  /**
   * One group's transaction; answers the charges it booked (committed). Two round trips: BEGIN and the claim;
   * then, when the claimed balances say the one-statement booking will take the whole group, the booking, the
   * write and COMMIT in one query. Otherwise — or if that booking refused after all (a balance spent since the
   * claim: the write then fails, and the transaction is rolled back) — the group is claimed again and booked
   * the careful way, its write and COMMIT in a third round trip.
   */
  private async book(client: pg.PoolClient, group: Pending[], atOnce = true): Promise<Answered> {
    const claimed = (lastResult(await client.query(`BEGIN; ${this.claimSql(group)}`)).rows ?? []) as Claimed[];
    const { items, undo } = this.itemsOf(group, claimed);
    const once =
      atOnce && foreseenToBook(items)
        ? atOnceStatement(
            items.map((i) => i.posting),
            this.accountCache,
          )
        : null;
    if (once) {
      const booking = inlineSql(once.statement.text, once.values);
      try {
        const results = await this.writeAndCommit(client, items, undo, booking);
        once.read(results.booking); // the accounts it resolved, for the cache
        return results.out;
      } catch (e) {
        if (isConnectionLost(e) || !(e instanceof pg.DatabaseError)) throw e;
        await client.query("ROLLBACK");
        return this.book(client, group, false);
      }
    }
    const postings = items.map((i) => i.posting);
    const results =
      postings.length === 0
        ? []
        : ((await bookAtOnce(client, postings, this.accountCache)) ??
          (await bookPostings(client, postings, { accountCache: this.accountCache })));
    // Refused (an auto top-up may rescue it), or a key booked meanwhile: it leaves the group.
    const booked = items.filter((_, n) => results[n]!.status === "POSTED");
    undo.push(...items.filter((_, n) => results[n]!.status !== "POSTED").map((i) => i.c));
    return (await this.writeAndCommit(client, booked, undo, null)).out;
  }

  private claimSql(group: Pending[]) {
    return inlineSql(CLAIM_SQL, [
      group.map((c) => c.caller.keyId),
      group.map((c) => c.idempotencyKey),
      group.map((c) => c.fingerprint),
      group.map((c) => c.chargeKey),
      group.map((c) => c.req.member),
      group.map((c) => c.req.organisation ?? null),
      group.map((c) => c.caller.organisationId),
      group.map((c) => JSON.stringify(c.req.metadata ?? {})),
    ]);
  }

  /** The claimed charges as postings and answers; those that cannot be go to `undo` (run alone). */
  private itemsOf(group: Pending[], claimed: Claimed[]) {
    const items: Item[] = [];
    const undo: Pending[] = [];
    for (const claim of claimed) {
      const c = group[claim.ord - 1]!;
      try {
        const { req } = c;
        const payment = organisationPayment(this.s.p, {
          memberId: claim.user_id,
          amountCents: BigInt(req.amount),
          description: req.description,
          organisationId: claim.org_id,
          type: req.event_id ? "Entry to an event" : "Club Payment",
          clubSessionId: req.session_id ?? null,
          eventId: req.event_id ?? null,
          idempotencyKey: c.chargeKey,
        });
        payment.posting.referenceNo = newReferenceNo();
        const row = chargeRow(c, claim, payment.posting.referenceNo);
        const parts = answerParts(chargeView(this.s, row, c.caller));
        if (!parts) throw new Error("answer cannot be cut at its balance");
        items.push({ c, claim, posting: payment.posting, booked: payment.booked, row, ...parts });
      } catch {
        undo.push(c); // the step-by-step way says what is wrong with it
      }
    }
    return { items, undo };
  }

  /**
   * The charges, answers and events, and COMMIT: one query (unless a recorder of its own writes the events),
   * preceded by `booking` when the group is booked in it too. Answers the booked charges, and the booking's row.
   */
  private async writeAndCommit(client: pg.PoolClient, items: Item[], undo: Pending[], booking: string | null) {
    const col = <T>(f: (i: Item) => T) => items.map(f);
    const claimsToUndo = undo.filter((c) => c.idempotencyKey !== null); // batch items claimed nothing
    const statements = [
      ...(booking ? [booking] : []),
      inlineSql(WRITE_SQL, [
        col((i) => i.row.id),
        col((i) => i.c.chargeKey),
        col((i) => i.c.caller.keyId),
        col((i) => i.row.amount_cents),
        col((i) => i.row.user_id),
        col((i) => i.row.organisation_id),
        col((i) => i.row.description),
        col((i) => i.row.reference),
        col((i) => i.row.session_id),
        col((i) => i.row.event_id),
        col((i) => JSON.stringify(i.c.req.metadata ?? {})),
        col((i) => i.c.caller.sessionBatchId ?? null),
        col((i) => i.c.idempotencyKey),
        col((i) => i.pre),
        col((i) => i.suf),
        JSON_TYPE,
        claimsToUndo.map((c) => c.caller.keyId),
        claimsToUndo.map((c) => c.idempotencyKey),
        items.length,
        col((i) => i.c.idempotencyKey).filter((k) => k !== null).length,
      ]),
    ];
    const events = items.map((i) => chargeEvent(this.s, "charge.succeeded", i.row));
    let results: pg.QueryResult | pg.QueryResult[];
    if (events.length > 0 && !this.s.eventsStatement && this.s.recordEvent) {
      // A recorder of its own (tests watch the events this way): it writes them between the write and COMMIT.
      results = await client.query(statements.join(";\n"));
      for (const e of events) await this.s.recordEvent(client, e);
      await client.query("COMMIT");
    } else {
      if (events.length > 0 && this.s.eventsStatement) {
        const { text, values } = this.s.eventsStatement(events);
        statements.push(inlineSql(text, values as InlineValue[]));
      }
      results = await client.query(`${statements.join(";\n")};\nCOMMIT`);
    }
    const all = (Array.isArray(results) ? results : [results]) as pg.QueryResult[];
    const written = all[booking ? 1 : 0]!.rows[0] as { booked: string | null };
    const booked = new Map<number, [string, string]>();
    for (const b of written.booked?.split(",") ?? []) {
      const [id, posting, balance] = b.split(" ") as [string, string, string];
      booked.set(Number(id), [posting, balance]);
    }
    const out: Answered = new Map();
    for (const i of items) {
      const [posting, balance] = booked.get(i.row.id)!;
      const row = { ...i.row, posting_id: posting, balance_after_cents: balance };
      const answer = { status: 201, contentType: JSON_TYPE, body: i.suf === null ? i.pre : i.pre + balance + i.suf };
      out.set(i.c, { answer, view: chargeView(this.s, row, i.c.caller), booked: () => i.booked(BigInt(balance)) });
    }
    const bookingRow = booking ? (all[0]!.rows[0] as { a: string | null; p: string | null }) : null;
    return { out, booking: bookingRow ? [bookingRow.a, bookingRow.p] : null };
  }
}

/**
 * Whether the one-statement booking will take the whole group, judged on the balances read by the claim: every
 * member keeps at least the low-balance warning's threshold (else the engine's careful path decides). Only a
 * forecast — a balance spent since is caught by the booking itself.
 */
function foreseenToBook(items: Item[]): boolean {
  if (items.length === 0) return false;
  const need = new Map<number, { balance: bigint; after: bigint; floor: bigint }>();
  for (const { claim, posting } of items) {
    if (claim.balance === null) return false;
    const m = need.get(claim.user_id) ?? { balance: BigInt(claim.balance), after: BigInt(claim.balance), floor: 0n };
    need.set(claim.user_id, m);
    m.after += posting.entries[0]!.amountCents; // the member's debit comes first
    for (const n of posting.notify ?? [])
      if (n.whenBalanceBelow && n.whenBalanceBelow.cents > m.floor) m.floor = n.whenBalanceBelow.cents;
  }
  for (const m of need.values()) if (m.after < m.floor) return false;
  return true;
}

/** A charge as it will be written (its posting and balance are filled in once booked). */
function chargeRow(c: Pending, claim: Claimed, referenceNo: string): ChargeRow {
  return {
    id: claim.charge_id,
    status: "succeeded",
    amount_cents: String(c.req.amount),
    refunded_cents: "0",
    member: c.req.member,
    organisation: claim.club_number,
    organisation_id: claim.org_id,
    payee_member: null,
    description: c.req.description,
    reference: c.req.reference ?? null,
    session_id: c.req.session_id ?? null,
    event_id: c.req.event_id ?? null,
    metadata: claim.meta,
    reference_no: referenceNo,
    balance_after_cents: null,
    top_up_cents: null,
    iou_id: null,
    card_payment_id: null,
    failure_code: null,
    created_at: claim.created,
    api_key_id: c.caller.keyId,
    user_id: claim.user_id,
    posting_id: null,
  };
}

/** The result of a simple-protocol query's last statement. */
function lastResult(r: pg.QueryResult | pg.QueryResult[]): pg.QueryResult {
  return Array.isArray(r) ? r[r.length - 1]! : r;
}
