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
import { invalidReason, refKey, requestHash } from "./book-postings";
import type { PostingInput, PostingResult } from "./posting";
import { newReferenceNo } from "./reference-no";

const AT_ONCE_SQL = {
  name: "ledger_at_once_v3",
  text: `
    WITH need AS MATERIALIZED (
      SELECT * FROM unnest($11::int[], $12::bigint[], $13::int[], $14::bigint[], $15::bigint[])
               AS n(acct, delta, count, funds, warn)),
    locked AS MATERIALIZED (
      SELECT id, kind, balance_cents, entry_count FROM accounts WHERE id = ANY($11::int[]) ORDER BY id FOR UPDATE),
    verdict AS MATERIALIZED (
      SELECT count(*) = cardinality($11::int[])
             AND coalesce(bool_and((l.kind = 'SYSTEM' OR n.funds IS NULL OR l.balance_cents >= n.funds)
                                   AND (n.warn IS NULL OR l.balance_cents >= n.warn)), false)
             AND NOT EXISTS (SELECT 1 FROM postings WHERE idempotency_key = ANY($1::text[])) AS ok
        FROM locked l JOIN need n ON n.acct = l.id),
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
      SELECT pin.id, y.acct, l.entry_count + y.no, y.amt, l.balance_cents + y.offs, y.typ, y.cp, pin.ts
        FROM unnest($16::int[], $17::int[], $18::bigint[], $19::text[], $20::int[], $21::bigint[], $22::int[])
             AS y(pord, acct, amt, typ, cp, offs, no)
        JOIN pin ON pin.pord = y.pord JOIN locked l ON l.id = y.acct),
    upd AS (
      UPDATE accounts SET balance_cents = l.balance_cents + n.delta, entry_count = l.entry_count + n.count
        FROM locked l JOIN need n ON n.acct = l.id
       WHERE accounts.id = l.id AND (SELECT ok FROM verdict))
    SELECT 'a' AS t, id AS n, balance_cents::text AS v FROM locked WHERE (SELECT ok FROM verdict)
    UNION ALL
    SELECT 'p', pord::int, id::text FROM pin`,
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
 * when the batch needs the careful path. `cache` maps "u<user>"/"o<org>"/"s<code>" to account ids; members and
 * organisations not in it yet are looked up first.
 */
export async function bookAtOnce(
  client: Pick<pg.PoolClient, "query">,
  postings: PostingInput[],
  cache: Map<string, number>,
): Promise<PostingResult[] | null> {
  if (!eligible(postings)) return null;
  if (!(await resolveAccounts(client, postings, cache))) return null;
  const accountOf = (ref: string) => (ref[0] === "a" ? Number(ref.slice(1)) : cache.get(ref)!);

  const needs = new Map<number, AccountNeed>();
  const legs = {
    pord: [] as number[],
    acct: [] as number[],
    amt: [] as string[],
    typ: [] as string[],
    cp: [] as (number | null)[],
    offs: [] as bigint[],
    no: [] as number[],
  };
  for (const [i, p] of postings.entries()) {
    const accts = p.entries.map((e) => accountOf(refKey(e)!));
    for (const [j, e] of p.entries.entries()) {
      const acct = accts[j]!;
      const need = needs.get(acct) ?? { delta: 0n, count: 0, funds: null, warn: null };
      needs.set(acct, need);
      need.delta += e.amountCents;
      need.count += 1;
      // With starting balance B this entry leaves B + delta-so-far; a debit needs that to be at least zero.
      if (e.amountCents < 0n) need.funds = atLeast(need.funds, -need.delta);
      for (const n of p.notify ?? []) {
        if (n.whenBalanceBelow!.entryIndex === j)
          need.warn = atLeast(need.warn, n.whenBalanceBelow!.cents - need.delta);
      }
      legs.pord.push(i + 1);
      legs.acct.push(acct);
      legs.amt.push(e.amountCents.toString());
      legs.typ.push(e.type ?? p.type);
      legs.cp.push(e.counterparty === undefined ? null : accts[e.counterparty]!);
      legs.offs.push(need.delta);
      legs.no.push(need.count);
    }
  }
  const accounts = [...needs.keys()].sort((a, b) => a - b);
  const { rows } = await client.query<{ t: string; n: number; v: string }>({
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
      accounts,
      accounts.map((a) => needs.get(a)!.delta.toString()),
      accounts.map((a) => needs.get(a)!.count),
      accounts.map((a) => needs.get(a)!.funds?.toString() ?? null),
      accounts.map((a) => needs.get(a)!.warn?.toString() ?? null),
      legs.pord,
      legs.acct,
      legs.amt,
      legs.typ,
      legs.cp,
      legs.offs.map(String),
      legs.no,
    ],
  });
  if (rows.length === 0) return null;
  const start = new Map<number, bigint>();
  const postingIds: bigint[] = [];
  for (const r of rows) {
    if (r.t === "a") start.set(r.n, BigInt(r.v));
    else postingIds[r.n - 1] = BigInt(r.v);
  }
  let leg = 0;
  return postings.map((p, i) => ({
    status: "POSTED",
    postingId: postingIds[i]!,
    balances: p.entries.map(() => {
      const accountId = legs.acct[leg]!;
      return { accountId, balanceAfterCents: start.get(accountId)! + legs.offs[leg++]! };
    }),
  }));
}

/**
 * Makes sure every member, organisation and system account the batch names has its account id in `cache`
 * (one look-up for those seen for the first time). False when one names no account: the careful path says so.
 */
async function resolveAccounts(
  client: Pick<pg.PoolClient, "query">,
  postings: PostingInput[],
  cache: Map<string, number>,
): Promise<boolean> {
  const missing = new Set<string>();
  for (const p of postings) {
    for (const e of p.entries) {
      const ref = refKey(e)!;
      if (ref[0] === "a" ? !validId(e.accountId) : !cache.has(ref)) missing.add(ref);
    }
  }
  if (missing.size === 0) return true;
  const ids = (kind: string) => [...missing].filter((r) => r[0] === kind).map((r) => Number(r.slice(1)));
  if ([...ids("a"), ...ids("u"), ...ids("o")].some((n) => !validId(n))) return false;
  const { rows } = await client.query<{ id: number; owner: string }>({
    name: "ledger_resolve_accounts",
    text: `SELECT id, coalesce('u' || user_id, 'o' || organisation_id, 's' || system_code) AS owner FROM accounts
            WHERE user_id = ANY($1::int[]) OR organisation_id = ANY($2::int[]) OR system_code = ANY($3::text[])`,
    values: [ids("u"), ids("o"), [...missing].filter((r) => r[0] === "s").map((r) => r.slice(1))],
  });
  for (const r of rows) if (cache.size < 1_000_000) cache.set(r.owner, r.id);
  return [...missing].every((ref) => cache.has(ref));
}
