// Monthly settlement of club balances to their banks (reference §3.11). For a reference date D: every open club
// whose balance at the end of D is above its minimum may be settled for (balance − minimum), or a smaller override;
// the federation keeps the club's fee and pays the rest to the club's bank, through a Direct Entry file.
// Differences from the original, on purpose: overrides are bounded on the server; a club is settled at most once
// per reference date (unless finance explicitly repeats it); the whole confirmation is one transaction, so two
// staff confirming at once, or one confirming twice, book once.
import type pg from "pg";
import { badInput, conflict } from "../../lib/errors";
import { dateTimeFormat } from "../../lib/intl-cache";
import { formatMoney, formatPercent, percentOf } from "../../lib/money";
import { isCalendarDate } from "../../lib/validation";
import { type AuditContext, recordAudit } from "../audit/record";
import { bookInTransaction, inTransaction } from "../ledger/transaction";
import { bankChanges } from "../orgs/bank-details";
import type { Payments } from "../payments/context";
import { FEDERATION_CLUB_NUMBER } from "../payments/federation";
import { settlementEntries } from "../payments/manual-adjustment";
import { activePaymentSettings } from "../payments/settings";
import { abaFile } from "./aba-file";
import { directEntryDetails } from "./direct-entry";

export interface Candidate {
  organisationId: number;
  clubNumber: string;
  name: string;
  bsb: string | null;
  accountNumber: string | null;
  /** The name on the club's bank account (its own name unless finance set another). */
  accountName: string;
  /** Balance at the end of the reference date, and now. */
  balanceCents: bigint;
  currentCents: bigint;
  minimumCents: bigint;
  /** Settlements (batch or manual) booked after the end of the reference date: they paid out of that balance. */
  settledAfterCents: bigint;
  /**
   * What may still be settled for the date: balance − minimum − settled since, and never more than today's
   * balance. The screen offers exactly this and the confirmation allows at most this.
   */
  settleableCents: bigint;
  feePpm: number;
  /** For settling the whole settleable amount. */
  feeCents: bigint;
  netCents: bigint;
  alreadySettled: boolean;
  /** Why it cannot be paid by bank file, if it cannot: shown, and the club cannot be ticked. */
  bankProblem: string | null;
  /** A settlement of this club was returned by the bank and its details were not changed since: shown. */
  bankFlag: string | null;
}

/** The last day of the previous month, in the configured zone: the default reference date. */
export function defaultReferenceDate(timeZone: string, now = new Date()) {
  const [y, m] = dateTimeFormat("en-CA", { timeZone, year: "numeric", month: "2-digit" })
    .format(now)
    .split("-")
    .map(Number) as [number, number];
  return new Date(Date.UTC(y, m - 1, 0)).toISOString().slice(0, 10);
}

export function parseReferenceDate(raw: unknown, timeZone: string) {
  const s = typeof raw === "string" ? raw : "";
  if (s === "") return defaultReferenceDate(timeZone);
  if (!isCalendarDate(s)) {
    throw badInput("The reference date is in the form YYYY-MM-DD.");
  }
  return s;
}

function bankProblem(bsb: string | null, account: string | null) {
  if (!bsb || !/^\d{6}$/.test(bsb)) return "no valid BSB";
  if (!account || !/^\d{1,9}$/.test(account)) return "no valid account number";
  return null;
}

// Math.min does not take bigints.
const least = (a: bigint, b: bigint) => (a < b ? a : b);

/** Runs the queries: the pool, or a transaction's client (so a confirmation reads what it has locked). */
type Queryable = Pick<pg.Pool, "query">;

/** Every open club with its numbers for the date, settleable or not (plain SQL: also runs in a transaction). */
async function clubsAt(p: Payments, referenceDate: string, q: Queryable = p.pool): Promise<Candidate[]> {
  const { rows } = await q.query<{
    id: number;
    club_number: string;
    name: string;
    bank_bsb: string | null;
    bank_account: string | null;
    account_name: string;
    bank_details_flag: string | null;
    min: string;
    current: string;
    at_date: string | null;
    settled_after: string;
    fee_ppm: number;
    settled: boolean;
  }>(
    `WITH bounds AS (SELECT (($1::date + 1)::timestamp AT TIME ZONE $2) AS day_end,
                            (SELECT default_org_fee_ppm FROM payment_settings ORDER BY id DESC LIMIT 1) AS default_fee)
     SELECT o.id, o.club_number, o.name, o.bank_bsb, o.bank_account, o.bank_details_flag,
            coalesce(o.bank_account_name, o.name) AS account_name,
            o.min_balance_after_settlement_cents::text AS min, a.balance_cents::text AS current,
            (SELECT e.balance_after_cents FROM entries e
              WHERE e.account_id = a.id AND e.created_at < b.day_end
              ORDER BY e.created_at DESC, e.entry_no DESC LIMIT 1)::text AS at_date,
            (SELECT coalesce(-sum(e.amount_cents), 0) FROM entries e
              WHERE e.account_id = a.id AND e.type = 'Settlement' AND e.created_at >= b.day_end)::text AS settled_after,
            coalesce(f.fee_ppm, b.default_fee) AS fee_ppm,
            EXISTS (SELECT 1 FROM settlements s WHERE s.organisation_id = o.id AND s.reference_date = $1::date)
              AS settled
       FROM bounds b, organisations o
       JOIN accounts a ON a.organisation_id = o.id
       LEFT JOIN organisation_fee_overrides f ON f.organisation_id = o.id
      WHERE o.status = 'OPEN' AND o.club_number <> $3
      ORDER BY o.club_number`,
    [referenceDate, p.timeZone, FEDERATION_CLUB_NUMBER],
  );
  return rows.map((r) => {
    const balance = BigInt(r.at_date ?? 0);
    const current = BigInt(r.current);
    const settledAfter = BigInt(r.settled_after);
    const settleable = least(balance - BigInt(r.min) - settledAfter, current);
    const fee = settleable > 0n ? percentOf(settleable, r.fee_ppm) : 0n;
    return {
      organisationId: r.id,
      clubNumber: r.club_number,
      name: r.name,
      bsb: r.bank_bsb,
      accountNumber: r.bank_account,
      accountName: r.account_name,
      balanceCents: balance,
      currentCents: current,
      minimumCents: BigInt(r.min),
      settledAfterCents: settledAfter,
      settleableCents: settleable,
      feePpm: r.fee_ppm,
      feeCents: fee,
      netCents: settleable - fee,
      alreadySettled: r.settled,
      bankProblem: bankProblem(r.bank_bsb, r.bank_account),
      bankFlag: r.bank_details_flag,
    };
  });
}

/** The clubs with something still to settle for the date (see `Candidate.settleableCents`). */
export async function settlementCandidates(p: Payments, referenceDate: string): Promise<Candidate[]> {
  return (await clubsAt(p, referenceDate)).filter((c) => c.settleableCents > 0n);
}

/** The screen's totals, over the clubs it offers: they follow what is still settleable. */
export function candidateTotals(candidates: Candidate[]) {
  const sum = (f: (c: Candidate) => bigint) => candidates.reduce((a, c) => a + f(c), 0n);
  return {
    liability: sum((c) => c.balanceCents - c.settledAfterCents),
    gross: sum((c) => c.settleableCents),
    net: sum((c) => c.netCents),
  };
}

export interface Selection {
  organisationId: number;
  /** Gross to settle instead of (balance − minimum). */
  overrideCents?: bigint | null;
}

export interface PlannedSettlement extends Candidate {
  grossCents: bigint;
  settleFeeCents: bigint;
  settleNetCents: bigint;
}

/** Checks every selected club (all-or-nothing) and answers what would be paid; throws every problem at once. */
export async function planSettlement(
  p: Payments,
  referenceDate: string,
  selection: Selection[],
  opts: { repeat?: boolean; q?: Queryable } = {},
): Promise<PlannedSettlement[]> {
  if (selection.length === 0) throw badInput("Tick at least one organisation.");
  const clubs = new Map((await clubsAt(p, referenceDate, opts.q)).map((c) => [c.organisationId, c]));
  const problems: string[] = [];
  const plan: PlannedSettlement[] = [];
  for (const s of selection) {
    const c = clubs.get(s.organisationId);
    if (!c || c.settleableCents <= 0n) {
      const name = c?.name ?? `Organisation ${s.organisationId}`;
      problems.push(
        c?.alreadySettled
          ? `${name} was already settled for ${referenceDate}.`
          : `${name} has nothing to settle for ${referenceDate}.`,
      );
      continue;
    }
    const gross = s.overrideCents ?? c.settleableCents;
    if (gross <= 0n || gross > c.settleableCents) {
      problems.push(
        `Invalid settlement amount for ${c.name}: must be more than $0.00 and at most ${formatMoney(c.settleableCents)}.`,
      );
      continue;
    }
    if (c.bankProblem) problems.push(`${c.name} cannot be paid by bank file: ${c.bankProblem}.`);
    if (c.alreadySettled && !opts.repeat) {
      problems.push(`${c.name} was already settled for ${referenceDate}; tick "settle again" to repeat it.`);
    }
    const fee = percentOf(gross, c.feePpm);
    plan.push({ ...c, grossCents: gross, settleFeeCents: fee, settleNetCents: gross - fee });
  }
  if (problems.length) throw badInput(problems.join(" "));
  return plan;
}

/**
 * The lodgement reference on the club's bank statement (18 characters, never cut): the batch and the reference
 * date, "B<batch> <YYYYMMDD>" — the remitter name beside it already says who paid.
 */
export function lodgementReference(batchId: number, referenceDate: string) {
  const ref = `B${batchId} ${referenceDate.replaceAll("-", "")}`;
  if (ref.length > 18) throw new Error(`lodgement reference ${ref} is longer than 18 characters`);
  return ref;
}

export function settlementDescription(feePpm: number, netCents: bigint) {
  return `Settlement from ABF. Fees ${formatPercent(feePpm)}%. Net Bank Transfer: ${formatMoney(netCents)}.`;
}

export interface ConfirmedBatch {
  batchId: number;
  replayed: boolean;
}

// One confirmation at a time: each re-reads the clubs after the one before it has committed, so two staff
// settling the same money for two reference dates cannot both pass the "still settleable" check.
const CONFIRM_LOCK = 7_311_011;

/**
 * Books the settlement: per club one posting (club −gross, settlements payable +net, fee income +fee) and one
 * settlement row, the batch and its bank file — all in one transaction. The same request key again answers
 * the batch it made; with another date or other clubs it is refused (the page was already used).
 */
export async function confirmSettlement(
  p: Payments,
  req: { referenceDate: string; selection: Selection[]; actorUserId: number; requestKey: string; repeat?: boolean },
  audit?: AuditContext,
): Promise<ConfirmedBatch> {
  const replay = await replayOf(p.pool, req);
  if (replay) return replay;
  const bank = directEntryDetails(await activePaymentSettings(p.db));
  await planSettlement(p, req.referenceDate, req.selection, { repeat: req.repeat }); // refuse early, outside the lock
  try {
    return await inTransaction(p.pool, async (client) => {
      await client.query("SELECT pg_advisory_xact_lock($1)", [CONFIRM_LOCK]);
      const again = await replayOf(client, req);
      if (again) return again;
      const plan = await planSettlement(p, req.referenceDate, req.selection, { repeat: req.repeat, q: client });
      const totals = plan.reduce(
        (t, s) => ({ gross: t.gross + s.grossCents, fee: t.fee + s.settleFeeCents, net: t.net + s.settleNetCents }),
        { gross: 0n, fee: 0n, net: 0n },
      );
      const batch = await client.query<{ id: number }>(
        `INSERT INTO settlement_batches (reference_date, request_key, created_by_user_id, gross_cents, fee_cents,
                                         net_cents, aba_file)
         VALUES ($1, $2, $3, $4, $5, $6, '') RETURNING id`,
        [
          req.referenceDate,
          req.requestKey,
          req.actorUserId,
          String(totals.gross),
          String(totals.fee),
          String(totals.net),
        ],
      );
      const batchId = batch.rows[0]!.id;
      for (const s of plan) {
        const seq = await nextSequence(client, s.organisationId, req.referenceDate, !!req.repeat);
        const posted = await bookInTransaction(client, {
          idempotencyKey: `settlement:${s.organisationId}:${req.referenceDate}:${seq}`,
          type: "Settlement",
          description: settlementDescription(s.feePpm, s.settleNetCents),
          actorUserId: req.actorUserId,
          entries: settlementEntries(s.organisationId, {
            grossCents: s.grossCents,
            netCents: s.settleNetCents,
            feeCents: s.settleFeeCents,
          }),
        });
        if (posted.status === "INSUFFICIENT_FUNDS") {
          throw badInput(`${s.name}'s balance is now ${formatMoney(posted.balanceCents)}: settle less, or refresh.`);
        }
        if (posted.status !== "POSTED") throw conflict(`${s.name} was settled for this date by someone else just now.`);
        await client.query(
          `INSERT INTO settlements (batch_id, organisation_id, reference_date, sequence, gross_cents, fee_cents, net_cents,
                                    fee_ppm, bsb, account_number, account_name, posting_id)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
          [
            batchId,
            s.organisationId,
            req.referenceDate,
            seq,
            String(s.grossCents),
            String(s.settleFeeCents),
            String(s.settleNetCents),
            s.feePpm,
            s.bsb,
            s.accountNumber,
            s.accountName,
            String(posted.postingId),
          ],
        );
      }
      // The bank file names the batch in every lodgement reference, so it is written once the batch has its id.
      const payments = plan
        .filter((s) => s.settleNetCents > 0n)
        .map((s) => ({
          bsb: s.bsb!,
          account: s.accountNumber!,
          accountName: s.accountName,
          amountCents: s.settleNetCents,
          reference: lodgementReference(batchId, req.referenceDate),
        }));
      // The processing date is today where the federation banks, not in UTC (which is yesterday before 10 am).
      const today = dateTimeFormat("en-CA", { timeZone: p.timeZone }).format(new Date());
      const processingDate = new Date(`${today}T00:00:00Z`);
      const aba = abaFile({ ...bank, description: "SETTLEMENT", processingDate }, payments);
      await client.query("UPDATE settlement_batches SET aba_file = $2 WHERE id = $1", [batchId, aba]);
      // The batch's row, and one per club so each club's officers see their settlement in their trail.
      const clubs = plan.map((s) => ({
        organisationId: s.organisationId,
        name: s.name,
        grossCents: s.grossCents,
        feeCents: s.settleFeeCents,
        netCents: s.settleNetCents,
      }));
      if (audit) {
        const { also, ...actor } = audit;
        const after = { referenceDate: req.referenceDate, repeat: !!req.repeat, ...totals, clubs };
        await recordAudit(
          client,
          { ...actor, action: "settlement.confirm", targetType: "settlement_batch", targetId: batchId, after },
          ...clubs.map((c) => ({
            ...actor,
            action: "settlement.club",
            targetType: "settlement_batch",
            targetId: batchId,
            orgId: c.organisationId,
            after: { referenceDate: req.referenceDate, ...c },
          })),
          ...(also ?? []),
        );
      }
      p.logger.info(
        { batchId, actor: req.actorUserId, clubs: plan.length, gross: String(totals.gross) },
        "settlement confirmed",
      );
      return { batchId, replayed: false };
    });
  } catch (e) {
    // A settlement row for (club, date, sequence) already taken: someone else settled it just now.
    if (e instanceof Error && "code" in e && e.code === "23505") {
      throw conflict("Some of these clubs were settled for this date by someone else just now. Refresh and check.");
    }
    throw e;
  }
}

/**
 * The batch this request key already made, if any. The key belongs to one rendered settlement form, so the same
 * form submitted twice answers its batch; the same key with another date or other clubs is a stale page.
 */
async function replayOf(
  q: Queryable,
  req: { referenceDate: string; selection: Selection[]; requestKey: string },
): Promise<ConfirmedBatch | null> {
  const { rows } = await q.query<{ id: number; reference_date: string; orgs: number[] }>(
    `SELECT b.id, to_char(b.reference_date, 'YYYY-MM-DD') AS reference_date,
            array(SELECT s.organisation_id FROM settlements s WHERE s.batch_id = b.id ORDER BY 1) AS orgs
       FROM settlement_batches b WHERE b.request_key = $1`,
    [req.requestKey],
  );
  const batch = rows[0];
  if (!batch) return null;
  const asked = [...new Set(req.selection.map((s) => s.organisationId))].sort((a, b) => a - b);
  if (batch.reference_date !== req.referenceDate || asked.join(",") !== batch.orgs.join(",")) {
    throw badInput(
      `This settlement form was already used to confirm batch ${batch.id}. Open the settlement page again to settle other clubs or another date.`,
    );
  }
  return { batchId: batch.id, replayed: true };
}

async function nextSequence(client: pg.PoolClient, organisationId: number, referenceDate: string, repeat: boolean) {
  if (!repeat) return 1;
  const { rows } = await client.query<{ n: number }>(
    "SELECT coalesce(max(sequence), 0) + 1 AS n FROM settlements WHERE organisation_id = $1 AND reference_date = $2",
    [organisationId, referenceDate],
  );
  return rows[0]!.n;
}

/** Settled clubs, newest first, with their batch's status (or "returned") and the club's bank-details flag. */
export async function settlementHistory(p: Payments, page: number, pageSize = 30) {
  const [rows, total] = await Promise.all([
    p.db.settlement.findMany({
      orderBy: { id: "desc" },
      take: pageSize,
      skip: (page - 1) * pageSize,
      include: { batch: { select: { id: true, createdAt: true, status: true } } },
    }),
    p.db.settlement.count(),
  ]);
  const [orgs, changes] = await Promise.all([
    p.db.organisation.findMany({
      where: { id: { in: rows.map((r) => r.organisationId) } },
      select: { id: true, name: true, bankDetailsFlag: true },
    }),
    bankChanges(p.db, { limit: 30 }),
  ]);
  const orgOf = new Map(orgs.map((o) => [o.id, o]));
  return {
    rows: rows.map((r) => ({
      ...r,
      clubName: orgOf.get(r.organisationId)?.name ?? r.accountName,
      status: r.returnedAt ? "RETURNED" : r.batch.status,
      bankFlag: orgOf.get(r.organisationId)?.bankDetailsFlag ?? null,
    })),
    history: changes,
    total,
    pages: Math.max(1, Math.ceil(total / pageSize)),
  };
}
