// The posting engine's fast path: a whole batch of ordinary postings booked in ONE statement, in its own implicit
// transaction — one round trip and one commit for the lot.
//
// Everything that does not depend on the balances is worked out here beforehand: per account, the total change,
// the number of entries and the lowest starting balance the batch needs (so no debit takes a member or club
// below zero, and no low-balance warning would fire); per entry, its offset from the starting balance and its
// place in the account's numbering. The statement then locks the accounts in id order, checks each starting
// balance read under the lock against what the batch needs and that no key was booked before, and — only when
// all of that holds — writes postings, entries and balances. Otherwise it writes nothing, and the engine books the
// batch the careful way (`bookPostings`: lock, decide posting by posting, write), which gives each posting its
// exact answer (refused, replayed, warned). The database's own guards (sum to zero, no overdraft, unique keys)
// still check whatever this writes.
import type pg from "pg";
import { invalidReason, knownRef, refKey, requestHash } from "./book-postings";
import type { EntryInput, PostingInput, PostingResult } from "./posting";
import { newReferenceNo } from "./reference-no";

const AT_ONCE_SQL = {
  name: "ledger_at_once_v5",
  text: `
    WITH locked AS MATERIALIZED (
      SELECT id, kind, balance_cents, entry_count,
             coalesce('u' || user_id, 'o' || organisation_id, 's' || system_code) AS owner
        FROM accounts
       WHERE id = ANY($23::int[]) OR user_id = ANY($24::int[]) OR organisation_id = ANY($25::int[])
          OR system_code = ANY($26::text[])
       ORDER BY id FOR UPDATE),
    acct AS MATERIALIZED (
      SELECT n.*, l.id, l.kind, l.balance_cents, l.entry_count
        FROM unnest($11::text[], $12::bigint[], $13::int[], $14::bigint[], $15::bigint[])
             AS n(ref, delta, count, funds, warn)
        JOIN (SELECT id, 'a' || id AS ref FROM locked UNION ALL SELECT id, owner FROM locked) k ON k.ref = n.ref
        JOIN locked l ON l.id = k.id),
    verdict AS MATERIALIZED (
      SELECT count(*) = cardinality($11::text[]) AND count(DISTINCT id) = count(*)
             AND coalesce(bool_and((kind = 'SYSTEM' OR funds IS NULL OR balance_cents >= funds)
                                   AND (warn IS NULL OR balance_cents >= warn)), false)
             AND NOT EXISTS (SELECT 1 FROM postings WHERE idempotency_key = ANY($1::text[])) AS ok
        FROM acct),
    pin AS MATERIALIZED (
      SELECT x.*, nextval('postings_id_seq') AS id, coalesce(x.at, clock_timestamp()) AS ts
        FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::int[], $7::int[], $8::int[],
                    $9::int[], $10::timestamptz[]) WITH ORDINALITY AS x(k, h, t, d, r, a, s, e, c, at, pord)
       WHERE (SELECT ok FROM verdict)),
    p AS (
      INSERT INTO postings (id, idempotency_key, request_hash, type, description, reference_no, actor_user_id,
                            club_session_id, event_id, card_payment_id, created_at)
      SELECT id, k, h, t, d, r, a, s, e, c, ts FROM pin),
    ent AS (
      INSERT INTO entries (posting_id, account_id, entry_no, amount_cents, balance_after_cents, type,
                           counterparty_account_id, created_at)
      SELECT pin.id, a.id, a.entry_count + y.no, y.amt, a.balance_cents + y.offs, y.typ, cp.id, pin.ts
        FROM unnest($16::int[], $17::text[], $18::bigint[], $19::text[], $20::text[], $21::bigint[], $22::int[])
             AS y(pord, ref, amt, typ, cp, offs, no)
        JOIN pin ON pin.pord = y.pord JOIN acct a ON a.ref = y.ref LEFT JOIN acct cp ON cp.ref = y.cp),
    upd AS (
      UPDATE accounts SET balance_cents = a.balance_cents + a.delta, entry_count = a.entry_count + a.count
        FROM acct a WHERE accounts.id = a.id AND (SELECT ok FROM verdict))
    SELECT 'a' AS t, ref AS k, id, balance_cents::text AS v FROM acct WHERE (SELECT ok FROM verdict)
    UNION ALL
    SELECT 'p', pord::text, NULL, id::text FROM pin`,
};

/** Whether a batch may take the fast path: its results then depend only on balances and keys. */
function eligible(postings: PostingInput[]): boolean {
  const keys = new Set<string>();
  for (const p of postings) {
    if (p.allowOverdraft || keys.has(p.idempotencyKey) || invalidReason(p) !== null) return false;
    if (p.notify?.some((n) => !n.whenBalanceBelow)) return false;
    if (p.entries.some((e) => refKey(e) === null)) return false;
    keys.add(p.idempotencyKey);
  }
  return keys.size > 0;
}

const validId = (x: number | undefined): x is number => Number.isInteger(x) && x! > 0 && x! < 2 ** 31;

/** What the batch asks of one account: its total change, entries, and the lowest starting balances it needs. */
interface AccountNeed {
  delta: bigint;
  count: number;
  /** Lowest starting balance for which no debit leaves the account below zero (members and clubs). */
  funds: bigint | null;
  /** Lowest starting balance for which no low-balance warning fires. */
  warn: bigint | null;
}

const atLeast = (a: bigint | null, b: bigint) => (a === null || b > a ? b : a);

/**
 * Books `postings` in one statement on `client` (no transaction open), or answers null having written nothing
 * when the batch needs the careful path. `cache` maps "u<user>"/"o<org>"/"s<code>" to account ids, and learns
 * the ones this batch resolved.
 */
export async function bookAtOnce(
  client: Pick<pg.PoolClient, "query">,
  postings: PostingInput[],
  cache: Map<string, number>,
): Promise<PostingResult[] | null> {
  if (!eligible(postings)) return null;
  // Accounts this process has not seen yet are named as the entries name them; the statement resolves them.
  const keyOf = (e: EntryInput) => knownRef(e, cache)!;
  const needs = new Map<string, AccountNeed>();
  const legs = {
    pord: [] as number[],
    key: [] as string[],
    amt: [] as string[],
    typ: [] as string[],
    cp: [] as (string | null)[],
    offs: [] as bigint[],
    no: [] as number[],
  };
  for (const [i, p] of postings.entries()) {
    const keys = p.entries.map(keyOf);
    for (const [j, e] of p.entries.entries()) {
      const key = keys[j]!;
      const need = needs.get(key) ?? { delta: 0n, count: 0, funds: null, warn: null };
      needs.set(key, need);
      need.delta += e.amountCents;
      need.count += 1;
      // With starting balance B this entry leaves B + delta-so-far; a debit needs that to be at least zero.
      if (e.amountCents < 0n) need.funds = atLeast(need.funds, -need.delta);
      for (const n of p.notify ?? []) {
        if (n.whenBalanceBelow!.entryIndex === j)
          need.warn = atLeast(need.warn, n.whenBalanceBelow!.cents - need.delta);
      }
      legs.pord.push(i + 1);
      legs.key.push(key);
      legs.amt.push(e.amountCents.toString());
      legs.typ.push(e.type ?? p.type);
      legs.cp.push(e.counterparty === undefined ? null : keys[e.counterparty]!);
      legs.offs.push(need.delta);
      legs.no.push(need.count);
    }
  }
  const keys = [...needs.keys()];
  const accounts = [...needs.values()];
  const named = (kind: string) => keys.filter((k) => k[0] === kind).map((k) => Number(k.slice(1)));
  const lock = { ids: named("a"), users: named("u"), orgs: named("o") };
  // An id the database could not even take names no account: the careful path says so.
  if ([...lock.ids, ...lock.users, ...lock.orgs].some((n) => !validId(n))) return null;
  const { rows } = await client.query<{ t: string; k: string; id: number | null; v: string }>({
    ...AT_ONCE_SQL,
    values: [
      postings.map((p) => p.idempotencyKey),
      postings.map(requestHash),
      postings.map((p) => p.type),
      postings.map((p) => p.description),
      postings.map(() => newReferenceNo()),
      postings.map((p) => p.actorUserId ?? null),
      postings.map((p) => p.clubSessionId ?? null),
      postings.map((p) => p.eventId ?? null),
      postings.map((p) => p.cardPaymentId ?? null),
      postings.map((p) => (p.at ? p.at.toISOString() : null)),
      keys,
      accounts.map((n) => n.delta.toString()),
      accounts.map((n) => n.count),
      accounts.map((n) => n.funds?.toString() ?? null),
      accounts.map((n) => n.warn?.toString() ?? null),
      legs.pord,
      legs.key,
      legs.amt,
      legs.typ,
      legs.cp,
      legs.offs.map(String),
      legs.no,
      lock.ids,
      lock.users,
      lock.orgs,
      keys.filter((k) => k[0] === "s").map((k) => k.slice(1)),
    ],
  });
  if (rows.length === 0) return null;
  const start = new Map<string, { id: number; balance: bigint }>();
  const postingIds: bigint[] = [];
  for (const r of rows) {
    if (r.t === "a") {
      start.set(r.k, { id: r.id!, balance: BigInt(r.v) });
      if (r.k[0] !== "a" && cache.size < 1_000_000) cache.set(r.k, r.id!);
    } else postingIds[Number(r.k) - 1] = BigInt(r.v);
  }
  let leg = 0;
  return postings.map((p, i) => ({
    status: "POSTED",
    postingId: postingIds[i]!,
    balances: p.entries.map(() => {
      const s = start.get(legs.key[leg]!)!;
      return { accountId: s.id, balanceAfterCents: s.balance + legs.offs[leg++]! };
    }),
  }));
}
