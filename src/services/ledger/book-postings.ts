// Books a batch of postings inside a transaction the caller has opened, in two statements:
//  1. lock every account the batch touches, in id order (so concurrent batches never deadlock), and look up
//     the batch's idempotency keys;
//  2. with the balances read under those locks, decide each posting in order — replay, refuse, or accept —
//     and write all accepted postings, their entries (running balances, per-account entry numbers) and the
//     new balances in one statement.
// The database checks the result again (entries sum to zero, no overdraft, unique keys, append-only).
import crypto, { createHash } from "node:crypto";
import type pg from "pg";
import { formatMoney } from "../../lib/money";
import { recordAudit } from "../audit/record";
import { type NotificationInput, writeNotifications } from "../notifications/outbox";
import type { EntryInput, PostingInput, PostingResult } from "./posting";
import { newReferenceNo } from "./reference-no";
import { isTransactionType } from "./transaction-types";

/** A client with an open transaction. */
export type TxClient = Pick<pg.PoolClient, "query">;

const MAX_CENTS = 10n ** 13n; // $100 billion: far beyond any real posting

// Both statements are named prepared statements: parsed and planned once per connection.
const LOCK_SQL = {
  name: "ledger_lock_v4",
  text: `
    WITH wanted AS (
      SELECT unnest($1::int[]) AS id
      UNION SELECT id FROM accounts WHERE user_id = ANY($2::int[])
      UNION SELECT id FROM accounts WHERE organisation_id = ANY($3::int[])
      UNION SELECT id FROM accounts WHERE system_code = ANY($4::text[])),
    locked AS (
      SELECT id, balance_cents, entry_count, kind, user_id, organisation_id, system_code FROM accounts
       WHERE id IN (SELECT id FROM wanted)
       ORDER BY id FOR UPDATE)
    SELECT 'a' AS t, id::text AS k, balance_cents::text AS b, entry_count AS c, kind::text AS x,
           coalesce('u' || user_id, 'o' || organisation_id, 's' || system_code) AS owner
      FROM locked
    UNION ALL
    SELECT 'p', idempotency_key, id::text, NULL, request_hash, NULL
      FROM postings WHERE idempotency_key = ANY($5::text[])`,
};

const WRITE_SQL = {
  name: "ledger_write_v3",
  text: `
    WITH p AS (
      INSERT INTO postings (idempotency_key, request_hash, type, description, reference_no, actor_user_id,
                            club_session_id, event_id, card_payment_id, allow_overdraft, created_at)
      SELECT k, h, t, d, r, a, s, e, c, o, coalesce(at, clock_timestamp())
        FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::int[], $7::int[], $8::int[],
                    $9::int[], $10::boolean[], $11::timestamptz[]) AS x(k, h, t, d, r, a, s, e, c, o, at)
      ON CONFLICT (idempotency_key) DO NOTHING
      RETURNING id, idempotency_key, created_at),
    e AS (
      INSERT INTO entries (posting_id, account_id, entry_no, amount_cents, balance_after_cents, type,
                           counterparty_account_id, created_at)
      SELECT p.id, x.acct, x.no, x.amt, x.bal, x.typ, x.cp, p.created_at
        FROM unnest($12::text[], $13::int[], $14::int[], $15::bigint[], $16::bigint[], $17::text[], $18::int[])
             WITH ORDINALITY AS x(k, acct, no, amt, bal, typ, cp, ord)
        JOIN p ON p.idempotency_key = x.k
       ORDER BY x.ord),
    u AS (
      UPDATE accounts SET balance_cents = x.bal, entry_count = x.cnt
        FROM unnest($19::int[], $20::bigint[], $21::int[]) AS x(id, bal, cnt)
       WHERE accounts.id = x.id),
    chk AS (SELECT ledger_expect_booked((SELECT count(*) FROM p), $22::int) AS ok)
    SELECT p.idempotency_key AS k, p.id::text AS id FROM chk LEFT JOIN p ON true WHERE chk.ok`,
};

/** The postings of a batch as the columns both booking statements insert, one element per posting. */
export interface PostingColumns {
  k: string[];
  h: string[];
  t: string[];
  d: string[];
  r: string[];
  a: (number | null)[];
  s: (number | null)[];
  e: (number | null)[];
  c: (number | null)[];
  o: boolean[];
  at: (string | null)[];
}

export const postingColumns = (): PostingColumns => ({
  k: [],
  h: [],
  t: [],
  d: [],
  r: [],
  a: [],
  s: [],
  e: [],
  c: [],
  o: [],
  at: [],
});

/** Adds a posting to `cols`, with its fingerprint and its statement reference (a new one unless given). */
export function addPosting(cols: PostingColumns, p: PostingInput, hash: string) {
  cols.k.push(p.idempotencyKey);
  cols.h.push(hash);
  cols.t.push(p.type);
  cols.d.push(p.description);
  cols.r.push(p.referenceNo ?? newReferenceNo());
  cols.a.push(p.actorUserId ?? null);
  cols.s.push(p.clubSessionId ?? null);
  cols.e.push(p.eventId ?? null);
  cols.c.push(p.cardPaymentId ?? null);
  cols.o.push(!!p.allowOverdraft);
  cols.at.push(p.at ? p.at.toISOString() : null);
}

interface WriteArrays extends PostingColumns {
  ek: string[];
  eacct: number[];
  eno: number[];
  eamt: string[];
  ebal: string[];
  etype: string[];
  ecp: (number | null)[];
}

/** The key an entry's account is known by in the lock results, or null when the entry names none or several. */
export function refKey(e: EntryInput): string | null {
  // Written out rather than built from a filtered list: every entry of every posting comes through here.
  const named =
    +(e.accountId !== undefined) +
    +(e.userId !== undefined) +
    +(e.organisationId !== undefined) +
    +(e.system !== undefined);
  if (named !== 1) return null;
  if (e.accountId !== undefined) return `a${e.accountId}`;
  if (e.userId !== undefined) return `u${e.userId}`;
  return e.organisationId !== undefined ? `o${e.organisationId}` : `s${e.system}`;
}

/**
 * An account key as "a<id>" when its id is known — named by id, or a member, organisation or system account found
 * in `cache` — otherwise as given ("u12", "o3", "sCARD_FUNDS"); null stays null.
 */
export function knownRef(ref: string | null, cache: Map<string, number>): string | null {
  const id = ref && ref[0] !== "a" ? cache.get(ref) : undefined;
  return id === undefined ? ref : `a${id}`;
}

const ids = (xs: (number | undefined)[]) => [
  ...new Set(xs.filter((x): x is number => Number.isInteger(x) && x! > 0 && x! < 2 ** 31)),
];

// JSON of a string, number or null, as JSON.stringify writes it: a string with nothing to escape (the usual
// case) is quoted directly, which is several times cheaper than a call into JSON.stringify.
const PLAIN = /^[^"\\\u0000-\u001f\ud800-\udfff]*$/;
function json(x: string | number | null): string {
  if (typeof x === "string") return PLAIN.test(x) ? `"${x}"` : JSON.stringify(x);
  return x === null ? "null" : JSON.stringify(x);
}
// crypto.hash (Node 20.12+) hashes a string in one call, without a Hash object.
const sha256Hex: (s: string) => string =
  typeof crypto.hash === "function"
    ? (s) => crypto.hash("sha256", s)
    : (s) => createHash("sha256").update(s).digest("hex");

/**
 * Fingerprint of what a posting asks for, so a key reused for a different request is caught. The SHA-256 of
 * JSON [type, description, actor, club session, event, card payment, overdraft, [[account, cents, null,
 * counterparty], …]] (the null is where an entry's own type was, before a posting had one type for all its
 * sides), spelt out by hand (JSON.stringify of the nested arrays cost more than the hash); stored
 * fingerprints must keep matching, and a test holds this to the JSON form. `refs`: the entries' refKeys, when
 * the caller has them already.
 */
export function requestHash(p: PostingInput, refs?: readonly (string | null)[]): string {
  let s = `[${json(p.type)},${json(p.description)},${json(p.actorUserId ?? null)},${json(p.clubSessionId ?? null)},`;
  s += `${json(p.eventId ?? null)},${json(p.cardPaymentId ?? null)},${p.allowOverdraft ? "true" : "false"},[`;
  for (let i = 0; i < p.entries.length; i++) {
    const e = p.entries[i]!;
    if (i > 0) s += ",";
    s += `[${json(refs ? (refs[i] ?? null) : refKey(e))},"${e.amountCents}",null,${json(e.counterparty ?? null)}]`;
  }
  return sha256Hex(`${s}]]`).slice(0, 32);
}

export function invalidReason(p: PostingInput): string | null {
  if (!p.idempotencyKey || p.idempotencyKey.length > 200) return "idempotency key missing or too long";
  if (!isTransactionType(p.type)) return `unknown transaction type ${p.type}`;
  if (!p.description?.trim()) return "description missing";
  if (p.entries.length < 2) return "a posting needs at least two entries";
  let total = 0n;
  for (const [i, e] of p.entries.entries()) {
    if (typeof e.amountCents !== "bigint" || e.amountCents === 0n) return "each entry needs a non-zero amount";
    if (e.amountCents > MAX_CENTS || e.amountCents < -MAX_CENTS) return "amount out of range";
    if (e.counterparty !== undefined && (e.counterparty === i || !p.entries[e.counterparty])) {
      return "counterparty must name another entry of the posting";
    }
    total += e.amountCents;
  }
  return total === 0n ? null : `entries sum to ${total}, not zero`;
}

interface AccountState {
  balance: bigint;
  count: number;
  system: boolean;
  touched: boolean;
}

/**
 * Books `postings`. `ownTransaction`: this call opens the transaction and commits it. Otherwise the caller has a
 * transaction open on `client` and commits it.
 */
export async function bookPostings(
  client: TxClient,
  postings: PostingInput[],
  opts: {
    ownTransaction?: boolean;
    accountCache?: Map<string, number>;
  } = {},
): Promise<PostingResult[]> {
  const own = !!opts.ownTransaction;
  const cache = opts.accountCache ?? new Map<string, number>();
  // The accounts to lock, by key; members and organisations already seen go by account id (ids never change).
  const refs = postings.flatMap((p) => p.entries.map((e) => knownRef(refKey(e), cache)));
  const named = (kind: string) => refs.flatMap((r) => (r?.[0] === kind ? [r.slice(1)] : []));
  const keys = postings.map((p) => p.idempotencyKey);
  // Every ledger statement is a key look-up. Right after bulk loads, before statistics catch up, the planner
  // could cache a sequential scan for the connection's life; this keeps the plans on the indexes.
  await client.query(own ? "BEGIN; SET LOCAL enable_seqscan = off" : "SET LOCAL enable_seqscan = off");
  const found = await client.query<{ t: string; k: string; b: string; c: number; x: string; owner: string }>({
    ...LOCK_SQL,
    values: [
      ids(named("a").map(Number)),
      ids(named("u").map(Number)),
      ids(named("o").map(Number)),
      [...new Set(named("s"))],
      keys,
    ],
  });

  const accounts = new Map<number, AccountState>();
  const byRef = new Map<string, number>();
  const known = new Map<string, { id: bigint; hash: string }>();
  for (const r of found.rows) {
    if (r.t === "a") {
      const id = Number(r.k);
      accounts.set(id, { balance: BigInt(r.b), count: r.c, system: r.x === "SYSTEM", touched: false });
      byRef.set(`a${id}`, id);
      byRef.set(r.owner, id);
      if (cache.size < 1_000_000) cache.set(r.owner, id);
    } else {
      known.set(r.k, { id: BigInt(r.b), hash: r.x });
    }
  }
  const accountOf = (e: EntryInput) => {
    const ref = knownRef(refKey(e), cache);
    return ref === null ? undefined : byRef.get(ref);
  };

  const results: PostingResult[] = new Array(postings.length);
  const accepted: number[] = [];
  const hashes: string[] = [];
  const w: WriteArrays = {
    ...postingColumns(),
    ek: [],
    eacct: [],
    eno: [],
    eamt: [],
    ebal: [],
    etype: [],
    ecp: [],
  };
  const batchKeys = new Map<string, { index: number; hash: string }>();
  const notifications: NotificationInput[] = [];

  for (const [i, p] of postings.entries()) {
    const hash = requestHash(p);
    hashes.push(hash);
    const prior = known.get(p.idempotencyKey);
    const inBatch = batchKeys.get(p.idempotencyKey);
    if (prior || inBatch) {
      const same = (prior?.hash ?? inBatch?.hash) === hash;
      // A key repeated inside one batch refers to a posting whose id is known only after the write.
      results[i] = { status: same ? "DUPLICATE" : "KEY_REUSED", postingId: prior?.id ?? -1n };
      continue;
    }
    const resolved = p.entries.map(accountOf);
    const bad =
      invalidReason(p) ??
      (resolved.some((a) => a === undefined) ? "an entry names no account, several, or one that does not exist" : null);
    if (bad) {
      results[i] = { status: "INVALID", reason: bad };
      continue;
    }
    const acctIds = resolved as number[];
    // Funds check, on the balances as they stand after the batch's earlier postings.
    const next = new Map<number, bigint>();
    let short: PostingResult | null = null;
    for (const [j, e] of p.entries.entries()) {
      const id = acctIds[j]!;
      const acct = accounts.get(id)!;
      const before = next.get(id) ?? acct.balance;
      const after = before + e.amountCents;
      if (!short && e.amountCents < 0n && !acct.system && after < 0n && !p.allowOverdraft) {
        short = {
          status: "INSUFFICIENT_FUNDS",
          entryIndex: j,
          accountId: id,
          balanceCents: before,
          amountCents: -e.amountCents,
        };
      }
      next.set(id, after);
    }
    if (short) {
      results[i] = short;
      continue;
    }
    batchKeys.set(p.idempotencyKey, { index: i, hash });
    accepted.push(i);
    addPosting(w, p, hash);
    const balances: { accountId: number; balanceAfterCents: bigint }[] = [];
    for (const [j, e] of p.entries.entries()) {
      const id = acctIds[j]!;
      const acct = accounts.get(id)!;
      acct.balance += e.amountCents;
      acct.count += 1;
      acct.touched = true;
      w.ek.push(p.idempotencyKey);
      w.eacct.push(id);
      w.eno.push(acct.count);
      w.eamt.push(e.amountCents.toString());
      w.ebal.push(acct.balance.toString());
      w.etype.push(p.type);
      w.ecp.push(e.counterparty === undefined ? null : acctIds[e.counterparty]!);
      balances.push({ accountId: id, balanceAfterCents: acct.balance });
    }
    results[i] = { status: "POSTED", postingId: -1n, balances };
    for (const n of p.notify ?? []) {
      const cond = n.whenBalanceBelow;
      const bal = cond ? balances[cond.entryIndex]?.balanceAfterCents : undefined;
      if (cond && (bal === undefined || bal >= cond.cents)) continue;
      const { whenBalanceBelow: _, balanceOfEntry, ...message } = n;
      const after = bal ?? (balanceOfEntry === undefined ? undefined : balances[balanceOfEntry]?.balanceAfterCents);
      if (after === undefined) notifications.push(message);
      else
        notifications.push({
          ...message,
          body: n.body.replace("{balance}", formatMoney(after)),
          // The balance after this posting's own entry: exact even when the batch moves the account again.
          data: message.data && { ...message.data, balanceAfterCents: after.toString() },
        });
    }
  }

  // Inside a caller's transaction, hand the planner setting back as it was.
  const finishSql = () => (own ? "COMMIT" : "SET LOCAL enable_seqscan TO DEFAULT");
  if (accepted.length === 0) {
    await client.query(finishSql());
    return results;
  }
  const overdraft = accepted.some((i) => postings[i]!.allowOverdraft);
  const touched = [...accounts.entries()].filter(([, a]) => a.touched);
  // An approved overdraft lifts the database's overdraft guard for this transaction's write only.
  if (overdraft) await client.query("SELECT set_config('ledger.allow_overdraft', 'on', true)");
  const written = (
    await client.query<{ k: string; id: string }>({
      ...WRITE_SQL,
      values: [
        w.k,
        w.h,
        w.t,
        w.d,
        w.r,
        w.a,
        w.s,
        w.e,
        w.c,
        w.o,
        w.at,
        w.ek,
        w.eacct,
        w.eno,
        w.eamt,
        w.ebal,
        w.etype,
        w.ecp,
        touched.map(([id]) => id),
        touched.map(([, a]) => a.balance.toString()),
        touched.map(([, a]) => a.count),
        w.k.length,
      ],
    })
  ).rows;
  await writeNotifications(client, notifications);
  await writeAudit(client, postings, results, accepted, written);
  const finish = finishSql();
  await client.query(overdraft ? `SELECT set_config('ledger.allow_overdraft', 'off', true); ${finish}` : finish);
  const idsByKey = new Map(written.map((r) => [r.k!, BigInt(r.id!)]));
  for (const [i, p] of postings.entries()) {
    const r = results[i]!;
    if ((r.status === "POSTED" || r.status === "DUPLICATE" || r.status === "KEY_REUSED") && r.postingId === -1n) {
      r.postingId = idsByKey.get(p.idempotencyKey)!;
    }
  }
  return results;
}

/** The accepted postings' audit rows, each told its posting and the first entry's balance after. */
async function writeAudit(
  client: TxClient,
  postings: PostingInput[],
  results: PostingResult[],
  accepted: number[],
  written: { k: string; id: string }[],
) {
  for (const i of accepted) {
    const p = postings[i]!;
    if (!p.audit?.length) continue;
    const r = results[i]!;
    const postingId = written.find((w) => w.k === p.idempotencyKey)?.id;
    const balanceAfterCents = r.status === "POSTED" ? r.balances[0]?.balanceAfterCents : undefined;
    await recordAudit(
      client,
      ...p.audit.map((e) => ({
        ...e,
        after: { ...(e.after as object | undefined), postingId, balanceAfterCents },
      })),
    );
  }
}
