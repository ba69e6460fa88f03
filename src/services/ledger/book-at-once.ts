// The posting engine's fast path: a whole batch of ordinary postings booked in ONE statement, in its own implicit
// transaction — one round trip and one commit for the lot.
//
// Everything that does not depend on the balances is worked out here beforehand: per account, the total change,
// the number of entries and the lowest starting balance the batch needs (so no debit takes a member or club
// below zero, and no low-balance warning would fire); per entry, its offset from the starting balance and its
// place in the account's numbering. The statement then locks the accounts in id order, checks each starting
// balance read under the lock against what the batch needs, and — only when all of that holds — writes postings,
// entries and balances. Otherwise it writes nothing, and the engine books the batch the careful way
// (`bookPostings`: lock, decide posting by posting, write), which gives each posting its exact answer (refused,
// replayed, warned). A key booked before is caught by the unique index on postings (the statement fails as a
// whole and the careful path answers the replay): replays are rare, and looking every key up first cost every
// batch an index probe per posting. The database's own guards (sum to zero, no overdraft, unique keys) still
// check whatever this writes.
//
// This runs for every payment, so the preparation is written for speed: one pass over the batch, array
// parameters built as literals, and the answer returned as one row of two strings.
import pg from "pg";
import { numberArray, textArray } from "../../db/array-literal";
import { type NamedStatement, queryPreparedRow } from "../../db/prepared-row";
import { addPosting, invalidReason, knownRef, postingColumns, refKey, requestHash } from "./book-postings";
import type { PostingInput, PostingResult } from "./posting";

const UNIQUE_VIOLATION = "23505";

// Parts both forms share. ENOUGH: every balance read under the lock covers what the batch needs. POSTINGS: the
// postings (ids drawn from the sequence up front), written only if the verdict is yes. BALANCES: the new balances.
// ENTRIES: the columns an entry is written with.
const ENOUGH = `
             AND coalesce(bool_and((kind = 'SYSTEM' OR funds IS NULL OR balance_cents >= funds)
                                   AND (warn IS NULL OR balance_cents >= warn)), false) AS ok`;
const POSTINGS = `
    pin AS MATERIALIZED (
      SELECT x.*, nextval('postings_id_seq') AS id, coalesce(x.at, clock_timestamp()) AS ts
        FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::int[], $7::int[], $8::int[],
                    $9::int[], $10::timestamptz[]) WITH ORDINALITY AS x(k, h, t, d, r, a, s, e, c, at, pord)
       WHERE (SELECT ok FROM verdict)),
    p AS (
      INSERT INTO postings (id, idempotency_key, request_hash, type, description, reference_no, actor_user_id,
                            club_session_id, event_id, card_payment_id, created_at)
      SELECT id, k, h, t, d, r, a, s, e, c, ts FROM pin),`;
const ENTRIES = `INSERT INTO entries (posting_id, account_id, entry_no, amount_cents, balance_after_cents, type,
                           counterparty_account_id, created_at)`;
/** The answer: each account's key, id and starting balance (only if booked), and the postings' ids in order. */
const answer = (key: string) => `
    SELECT (SELECT string_agg(${key} || ' ' || id || ' ' || balance_cents, ',') FROM acct
             WHERE (SELECT ok FROM verdict)) AS a,
           string_agg(id::text, ',' ORDER BY pord) AS p
      FROM pin`;
const BALANCES = `
    upd AS (
      UPDATE accounts SET balance_cents = a.balance_cents + a.delta, entry_count = a.entry_count + a.count
        FROM acct a WHERE accounts.id = a.id AND (SELECT ok FROM verdict))`;

// When every account of the batch is known by id (the usual case: the engine remembers the accounts it has seen),
// the statement is this smaller one: the accounts are locked straight from the list of ids. It was about a sixth
// cheaper to run than the general form below.
const KNOWN_SQL = {
  name: "ledger_at_once_known_v1",
  text: `
    WITH acct AS MATERIALIZED (
      SELECT n.*, a.kind, a.balance_cents, a.entry_count
        FROM unnest($11::int[], $12::bigint[], $13::int[], $14::bigint[], $15::bigint[])
             AS n(id, delta, count, funds, warn)
        JOIN accounts a ON a.id = n.id
       ORDER BY a.id FOR UPDATE OF a),
    verdict AS MATERIALIZED (
      SELECT count(*) = cardinality($11::int[])
${ENOUGH}
        FROM acct),
${POSTINGS}
    ent AS (
      ${ENTRIES}
      SELECT pin.id, y.acct, a.entry_count + y.no, y.amt, a.balance_cents + y.offs, y.typ, y.cp, pin.ts
        FROM unnest($16::int[], $17::int[], $18::bigint[], $19::text[], $20::int[], $21::bigint[], $22::int[])
             AS y(pord, acct, amt, typ, cp, offs, no)
        JOIN pin ON pin.pord = y.pord JOIN acct a ON a.id = y.acct),
${BALANCES}
${answer("'a' || id")}`,
};

// The general form: accounts named by member, organisation or system code as well as by id are resolved (and
// locked) inside the statement, so a first payment needs no look-up round trip of its own.
const RESOLVING_SQL = {
  name: "ledger_at_once_v6",
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
${ENOUGH}
        FROM acct),
${POSTINGS}
    ent AS (
      ${ENTRIES}
      SELECT pin.id, a.id, a.entry_count + y.no, y.amt, a.balance_cents + y.offs, y.typ, cp.id, pin.ts
        FROM unnest($16::int[], $17::text[], $18::bigint[], $19::text[], $20::text[], $21::bigint[], $22::int[])
             AS y(pord, ref, amt, typ, cp, offs, no)
        JOIN pin ON pin.pord = y.pord JOIN acct a ON a.ref = y.ref LEFT JOIN acct cp ON cp.ref = y.cp),
${BALANCES}
${answer("ref")}`,
};

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
const validId = (x: number) => Number.isInteger(x) && x > 0 && x < 2 ** 31;

/** The statement's parameters for a batch, or null when the batch is not one this path may book. */
function prepare(postings: PostingInput[], cache: Map<string, number>) {
  const seen = new Set<string>();
  const needs = new Map<string, AccountNeed>();
  const post = postingColumns();
  const legs = {
    pord: [] as number[],
    key: [] as string[],
    amt: [] as bigint[],
    typ: [] as string[],
    cp: [] as (string | null)[],
    offs: [] as bigint[],
    no: [] as number[],
  };
  for (let i = 0; i < postings.length; i++) {
    const p = postings[i]!;
    // Its results depend only on balances and keys, or it goes the careful way.
    if (p.allowOverdraft || seen.has(p.idempotencyKey) || invalidReason(p) !== null) return null;
    if (p.notify?.some((n) => !n.whenBalanceBelow) || p.audit?.length) return null;
    seen.add(p.idempotencyKey);
    const refs = p.entries.map(refKey);
    // Accounts this process has seen are named by id; the others as the entry names them (the statement
    // resolves those).
    if (refs.includes(null)) return null;
    const keys = refs.map((ref) => knownRef(ref, cache)!);
    addPosting(post, p, requestHash(p, refs));
    for (let j = 0; j < p.entries.length; j++) {
      const e = p.entries[j]!;
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
      legs.amt.push(e.amountCents);
      legs.typ.push(p.type);
      legs.cp.push(e.counterparty === undefined ? null : keys[e.counterparty]!);
      legs.offs.push(need.delta);
      legs.no.push(need.count);
    }
  }
  if (seen.size === 0) return null;
  const keys = [...needs.keys()];
  const accounts = [...needs.values()];
  const lock = { ids: [] as number[], users: [] as number[], orgs: [] as number[], codes: [] as string[] };
  for (const k of keys) {
    if (k[0] === "s") lock.codes.push(k.slice(1));
    else {
      const n = Number(k.slice(1));
      // An id the database could not even take names no account: the careful path says so.
      if (!validId(n)) return null;
      (k[0] === "a" ? lock.ids : k[0] === "u" ? lock.users : lock.orgs).push(n);
    }
  }
  const postingValues = [
    textArray(post.k),
    textArray(post.h),
    textArray(post.t),
    textArray(post.d),
    textArray(post.r),
    numberArray(post.a),
    numberArray(post.s),
    numberArray(post.e),
    numberArray(post.c),
    textArray(post.at),
  ];
  const known = lock.ids.length === keys.length;
  // Accounts go to the statement as ids when all are known (its smaller form), otherwise as keys to resolve.
  const accountsAs = known
    ? (ks: (string | null)[]) => numberArray(ks.map((k) => (k === null ? null : Number(k.slice(1)))))
    : textArray;
  const values = [
    ...postingValues,
    accountsAs(keys),
    numberArray(accounts.map((n) => n.delta)),
    numberArray(accounts.map((n) => n.count)),
    numberArray(accounts.map((n) => n.funds)),
    numberArray(accounts.map((n) => n.warn)),
    numberArray(legs.pord),
    accountsAs(legs.key),
    numberArray(legs.amt),
    textArray(legs.typ),
    accountsAs(legs.cp),
    numberArray(legs.offs),
    numberArray(legs.no),
    ...(known ? [] : [numberArray(lock.ids), numberArray(lock.users), numberArray(lock.orgs), textArray(lock.codes)]),
  ];
  return { sql: known ? KNOWN_SQL : RESOLVING_SQL, values, legs };
}

/** A batch's one statement, and how to read its answer. */
export interface AtOnceStatement {
  statement: NamedStatement;
  values: string[];
  /** The results from the statement's one row (its two columns), or null: nothing was written. */
  read(row: readonly (string | null)[] | null): PostingResult[] | null;
}

/**
 * The statement that books `postings` at once, or null when the batch needs the careful path. `cache` maps
 * "u<user>"/"o<org>"/"s<code>" to account ids, and learns the ones the statement resolved when its answer is read.
 */
export function atOnceStatement(postings: PostingInput[], cache: Map<string, number>): AtOnceStatement | null {
  const prepared = prepare(postings, cache);
  if (!prepared) return null;
  const read = (row: readonly (string | null)[] | null): PostingResult[] | null => {
    const [accountsBooked, postingIdList] = row ?? [];
    if (!accountsBooked || !postingIdList) return null;
    const start = new Map<string, { id: number; balance: bigint }>();
    for (const account of accountsBooked.split(",")) {
      const [ref, id, balance] = account.split(" ") as [string, string, string];
      start.set(ref, { id: Number(id), balance: BigInt(balance) });
      if (ref[0] !== "a" && cache.size < 1_000_000) cache.set(ref, Number(id));
    }
    const postingIds = postingIdList.split(",");
    const { legs } = prepared;
    let leg = 0;
    return postings.map((p, i) => ({
      status: "POSTED",
      postingId: BigInt(postingIds[i]!),
      balances: p.entries.map(() => {
        const s = start.get(legs.key[leg]!)!;
        return { accountId: s.id, balanceAfterCents: s.balance + legs.offs[leg++]! };
      }),
    }));
  };
  return { statement: prepared.sql, values: prepared.values, read };
}

/**
 * Books `postings` in one statement on `client` (no transaction open), or answers null having written nothing
 * when the batch needs the careful path. `cache` as for atOnceStatement.
 */
export async function bookAtOnce(
  client: Pick<pg.PoolClient, "query">,
  postings: PostingInput[],
  cache: Map<string, number>,
): Promise<PostingResult[] | null> {
  const once = atOnceStatement(postings, cache);
  if (!once) return null;
  let row: (string | null)[] | null;
  try {
    row = await queryPreparedRow(client, once.statement, once.values);
  } catch (e) {
    if (e instanceof pg.DatabaseError && e.code === UNIQUE_VIOLATION) return null; // a replay: the careful path
    throw e;
  }
  return once.read(row);
}
