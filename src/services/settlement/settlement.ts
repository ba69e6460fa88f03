// Monthly settlement of club balances to their banks (reference §3.11). For a reference date D: every open club
// whose balance at the end of D is above its minimum may be settled for (balance − minimum), or a smaller override;
// the federation keeps the club's fee and pays the rest to the club's bank, through a Direct Entry file.
// Differences from the original, on purpose: overrides are bounded on the server; a club is settled at most once
// per reference date (unless finance explicitly repeats it); the whole confirmation is one transaction, so two
// staff confirming at once, or one confirming twice, book once.
import type pg from "pg";
import { badInput, conflict } from "../../lib/errors";
import { formatMoney, formatPercent, percentOf } from "../../lib/money";
import { orgFeePpm } from "../finance/fees";
import { bookInTransaction, inTransaction } from "../ledger/transaction";
import type { Payments } from "../payments/context";
import { FEDERATION_CLUB_NUMBER } from "../payments/federation";
import { settlementEntries } from "../payments/manual-adjustment";
import { activePaymentSettings } from "../payments/settings";
import { abaFile } from "./aba-file";

export interface Candidate {
  organisationId: number;
  clubNumber: string;
  name: string;
  bsb: string | null;
  accountNumber: string | null;
  /** Balance at the end of the reference date, and now. */
  balanceCents: bigint;
  currentCents: bigint;
  minimumCents: bigint;
  /** balance − minimum: the most that may be settled. */
  settleableCents: bigint;
  feePpm: number;
  /** For settling the whole settleable amount. */
  feeCents: bigint;
  netCents: bigint;
  alreadySettled: boolean;
  /** Why it cannot be paid by bank file, if it cannot. */
  bankProblem: string | null;
}

/** The last day of the previous month, in the configured zone: the default reference date. */
export function defaultReferenceDate(timeZone: string, now = new Date()) {
  const [y, m] = new Intl.DateTimeFormat("en-CA", { timeZone, year: "numeric", month: "2-digit" })
    .format(now)
    .split("-")
    .map(Number) as [number, number];
  return new Date(Date.UTC(y, m - 1, 0)).toISOString().slice(0, 10);
}

export function parseReferenceDate(raw: unknown, timeZone: string) {
  const s = String(raw ?? "");
  if (s === "") return defaultReferenceDate(timeZone);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(s) || Number.isNaN(Date.parse(`${s}T00:00:00Z`))) {
    throw badInput("The reference date is in the form YYYY-MM-DD.");
  }
  return s;
}

function bankProblem(bsb: string | null, account: string | null) {
  if (!bsb || !/^\d{6}$/.test(bsb)) return "no valid BSB";
  if (!account || !/^\d{1,9}$/.test(account)) return "no valid account number";
  return null;
}

export async function settlementCandidates(p: Payments, referenceDate: string): Promise<Candidate[]> {
  const rows = await p.db.$queryRaw<
    {
      id: number;
      club_number: string;
      name: string;
      bank_bsb: string | null;
      bank_account: string | null;
      min: bigint;
      current: bigint;
      at_date: bigint | null;
      settled: boolean;
    }[]
  >`
    SELECT o.id, o.club_number, o.name, o.bank_bsb, o.bank_account, o.min_balance_after_settlement_cents AS min,
           a.balance_cents AS current,
           (SELECT e.balance_after_cents FROM entries e
             WHERE e.account_id = a.id
               AND e.created_at < ((${referenceDate}::date + 1)::timestamp AT TIME ZONE ${p.timeZone})
             ORDER BY e.created_at DESC, e.entry_no DESC LIMIT 1) AS at_date,
           EXISTS (SELECT 1 FROM settlements s WHERE s.organisation_id = o.id AND s.reference_date = ${referenceDate}::date)
             AS settled
      FROM organisations o JOIN accounts a ON a.organisation_id = o.id
     WHERE o.status = 'OPEN' AND o.club_number <> ${FEDERATION_CLUB_NUMBER}
     ORDER BY o.club_number`;
  const out: Candidate[] = [];
  for (const r of rows) {
    const balance = r.at_date ?? 0n;
    const settleable = balance - r.min;
    if (settleable <= 0n) continue;
    const feePpm = await orgFeePpm(p.db, r.id);
    const fee = percentOf(settleable, feePpm);
    out.push({
      organisationId: r.id,
      clubNumber: r.club_number,
      name: r.name,
      bsb: r.bank_bsb,
      accountNumber: r.bank_account,
      balanceCents: balance,
      currentCents: r.current,
      minimumCents: r.min,
      settleableCents: settleable,
      feePpm,
      feeCents: fee,
      netCents: settleable - fee,
      alreadySettled: r.settled,
      bankProblem: bankProblem(r.bank_bsb, r.bank_account),
    });
  }
  return out;
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
  opts: { repeat?: boolean } = {},
): Promise<PlannedSettlement[]> {
  if (selection.length === 0) throw badInput("Tick at least one organisation.");
  const candidates = new Map((await settlementCandidates(p, referenceDate)).map((c) => [c.organisationId, c]));
  const problems: string[] = [];
  const plan: PlannedSettlement[] = [];
  for (const s of selection) {
    const c = candidates.get(s.organisationId);
    if (!c) {
      const [org, settled] = await Promise.all([
        p.db.organisation.findUnique({ where: { id: s.organisationId }, select: { name: true } }),
        p.db.settlement.count({
          where: { organisationId: s.organisationId, referenceDate: new Date(`${referenceDate}T00:00:00Z`) },
        }),
      ]);
      const name = org?.name ?? `Organisation ${s.organisationId}`;
      problems.push(
        settled
          ? `${name} was already settled for ${referenceDate}.`
          : `${name} has nothing to settle for ${referenceDate}.`,
      );
      continue;
    }
    const gross = s.overrideCents ?? c.settleableCents;
    // biome-ignore lint/complexity/useMathMinMax: Math.min does not take bigints
    const most = c.settleableCents < c.currentCents ? c.settleableCents : c.currentCents;
    if (gross <= 0n || gross > most) {
      problems.push(
        `Invalid settlement amount for ${c.name}: must be more than $0.00 and at most ${formatMoney(most)}.`,
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

export function settlementDescription(feePpm: number, netCents: bigint) {
  return `Settlement from ABF. Fees ${formatPercent(feePpm)}%. Net Bank Transfer: ${formatMoney(netCents)}.`;
}

export interface ConfirmedBatch {
  batchId: number;
  replayed: boolean;
}

/**
 * Books the settlement: per club one posting (club −gross, settlements payable +net, fee income +fee) and one
 * settlement row, the batch and its bank file — all in one transaction. The same request key again answers
 * the batch it made.
 */
export async function confirmSettlement(
  p: Payments,
  req: { referenceDate: string; selection: Selection[]; actorUserId: number; requestKey: string; repeat?: boolean },
): Promise<ConfirmedBatch> {
  const existing = await p.db.settlementBatch.findUnique({ where: { requestKey: req.requestKey } });
  if (existing) return { batchId: existing.id, replayed: true };
  const plan = await planSettlement(p, req.referenceDate, req.selection, { repeat: req.repeat });
  const settings = await activePaymentSettings(p.db);
  try {
    return await inTransaction(p.pool, async (client) => {
      const totals = plan.reduce(
        (t, s) => ({ gross: t.gross + s.grossCents, fee: t.fee + s.settleFeeCents, net: t.net + s.settleNetCents }),
        { gross: 0n, fee: 0n, net: 0n },
      );
      const payments = plan
        .filter((s) => s.settleNetCents > 0n)
        .map((s) => ({
          bsb: s.bsb!,
          account: s.accountNumber!,
          accountName: s.name,
          amountCents: s.settleNetCents,
          reference: `SETTLE ${s.clubNumber} ${req.referenceDate.slice(0, 7)}`,
        }));
      const aba = abaFile(
        {
          bankCode: settings.abaBankCode,
          userName: settings.abaUserName,
          userId: settings.abaUserId,
          description: "SETTLEMENT",
          processingDate: new Date(),
          traceBsb: settings.federationBsb,
          traceAccount: settings.federationAccount,
          remitterName: settings.abaRemitterName,
        },
        payments,
      );
      const batch = await client.query<{ id: number }>(
        `INSERT INTO settlement_batches (reference_date, request_key, created_by_user_id, gross_cents, fee_cents,
                                         net_cents, aba_file)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
        [
          req.referenceDate,
          req.requestKey,
          req.actorUserId,
          String(totals.gross),
          String(totals.fee),
          String(totals.net),
          aba,
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
            s.name,
            String(posted.postingId),
          ],
        );
      }
      p.logger.info(
        { batchId, actor: req.actorUserId, clubs: plan.length, gross: String(totals.gross) },
        "settlement confirmed",
      );
      return { batchId, replayed: false };
    });
  } catch (e) {
    // Two staff confirming the same clubs at once: the second finds the unique settlement row taken.
    if (e instanceof Error && "code" in e && e.code === "23505") {
      const again = await p.db.settlementBatch.findUnique({ where: { requestKey: req.requestKey } });
      if (again) return { batchId: again.id, replayed: true };
      throw conflict("Some of these clubs were settled for this date by someone else just now. Refresh and check.");
    }
    throw e;
  }
}

async function nextSequence(client: pg.PoolClient, organisationId: number, referenceDate: string, repeat: boolean) {
  if (!repeat) return 1;
  const { rows } = await client.query<{ n: number }>(
    "SELECT coalesce(max(sequence), 0) + 1 AS n FROM settlements WHERE organisation_id = $1 AND reference_date = $2",
    [organisationId, referenceDate],
  );
  return rows[0]!.n;
}

export async function settlementHistory(p: Payments, page: number, pageSize = 30) {
  const [rows, total] = await Promise.all([
    p.db.settlement.findMany({
      orderBy: { id: "desc" },
      take: pageSize,
      skip: (page - 1) * pageSize,
      include: { batch: { select: { id: true, createdAt: true } } },
    }),
    p.db.settlement.count(),
  ]);
  return { rows, total, pages: Math.max(1, Math.ceil(total / pageSize)) };
}
