// The life of a settlement batch after its confirmation: its bank file downloaded, the batch marked submitted to
// the bank, marked paid (the payable cleared into the federation's bank account), or a line returned by the bank
// (the club's money back on its account, the club flagged to fix its bank details). Each step locks the batch row,
// so two staff acting at once act once; each confirmed form's request key makes the same form sent twice answer
// what it did. The ledger side of each step is one posting with a key of its own, as a second guard. Each step (and
// each download) writes its audit row in its own transaction; a refused or replayed step writes none.
import type pg from "pg";
import { badInput, conflict, notFound } from "../../lib/errors";
import { formatMoney } from "../../lib/money";
import { type AuditActor, recordAudit } from "../audit/record";
import type { EntryInput } from "../ledger/posting";
import { bookInTransaction, inTransaction } from "../ledger/transaction";
import type { Payments } from "../payments/context";
import { lodgementReference } from "./settlement";

export type BatchStatus = "CREATED" | "DOWNLOADED" | "SUBMITTED" | "PAID";
export type StepName = "DOWNLOADED" | "SUBMITTED" | "PAID" | "RETURNED";

export interface StepOutcome {
  batchId: number;
  /** The same form was sent before: nothing more was done. */
  replayed: boolean;
}

/** The finance editor making a step, as the audit trail records them. */
export type StepActor = AuditActor & { actorId: number };

interface LockedBatch {
  id: number;
  status: BatchStatus;
  reference_date: string;
  net_cents: string;
  clubs: number;
  who: string | null;
  at: Date | null;
}

/** Locks the batch row (every step goes through here) and answers its state, with who made its last step. */
async function lockBatch(client: pg.PoolClient, batchId: number): Promise<LockedBatch> {
  const { rows } = await client.query<LockedBatch>(
    `SELECT b.id, b.status, to_char(b.reference_date, 'YYYY-MM-DD') AS reference_date, b.net_cents::text AS net_cents,
            (SELECT count(*)::int FROM settlements st WHERE st.batch_id = b.id) AS clubs,
            (SELECT u.first_name || ' ' || u.last_name FROM settlement_batch_steps s JOIN users u ON u.id = s.actor_user_id
              WHERE s.batch_id = b.id AND s.settlement_id IS NULL ORDER BY s.id DESC LIMIT 1) AS who,
            (SELECT s.created_at FROM settlement_batch_steps s
              WHERE s.batch_id = b.id AND s.settlement_id IS NULL ORDER BY s.id DESC LIMIT 1) AS at
       FROM settlement_batches b WHERE b.id = $1 FOR UPDATE OF b`,
    [batchId],
  );
  if (!rows[0]) throw notFound("That settlement does not exist.");
  return rows[0];
}

/** The step this request key already made, if any; the same key on another batch or step is a used page. */
async function replayOf(client: pg.PoolClient, requestKey: string, batchId: number, step: StepName, line?: number) {
  const { rows } = await client.query<{ batch_id: number; step: string; settlement_id: number | null }>(
    "SELECT batch_id, step, settlement_id FROM settlement_batch_steps WHERE request_key = $1",
    [requestKey],
  );
  const r = rows[0];
  if (!r) return false;
  if (r.batch_id !== batchId || r.step !== step || (r.settlement_id ?? undefined) !== line) {
    throw badInput("This form was already used for another step. Open the batch page again.");
  }
  return true;
}

const recordStep = (
  client: pg.PoolClient,
  s: {
    batchId: number;
    step: StepName;
    actorUserId: number;
    requestKey?: string;
    settlementId?: number;
    note?: string;
  },
) =>
  client.query(
    `INSERT INTO settlement_batch_steps (batch_id, settlement_id, step, request_key, actor_user_id, note)
     VALUES ($1, $2, $3, $4, $5, $6)`,
    [s.batchId, s.settlementId ?? null, s.step, s.requestKey ?? null, s.actorUserId, s.note ?? null],
  );

const doneBy = (b: LockedBatch) =>
  b.who && b.at ? ` by ${b.who} at ${b.at.toISOString().slice(0, 16).replace("T", " ")} UTC` : "";

/** A step's audit row: on the batch, or on one line (then its club sees it too). */
const stepRow = (actor: StepActor, action: string, batchId: number, after: unknown, orgId?: number) => ({
  ...actor,
  action: `settlement.${action}`,
  targetType: "settlement_batch",
  targetId: batchId,
  orgId: orgId ?? null,
  after,
});

/**
 * A download of the bank file `file`: one audit row per download; the first also moves a new batch to DOWNLOADED
 * (who and when), later ones change nothing else. Answers whether this download was the first.
 */
export async function recordDownload(p: Payments, batchId: number, actor: StepActor, file: string): Promise<boolean> {
  return inTransaction(p.pool, async (client) => {
    const b = await lockBatch(client, batchId);
    const first = b.status === "CREATED";
    if (first) {
      await client.query(
        `UPDATE settlement_batches SET status = 'DOWNLOADED', downloaded_at = now(), downloaded_by_user_id = $2
          WHERE id = $1`,
        [batchId, actor.actorId],
      );
      await recordStep(client, { batchId, step: "DOWNLOADED", actorUserId: actor.actorId });
    }
    await recordAudit(
      client,
      stepRow(actor, "bank_file", batchId, { file, netCents: b.net_cents, clubs: b.clubs, first }),
    );
    return first;
  });
}

interface StepRequest {
  batchId: number;
  actor: StepActor;
  requestKey: string;
}

/** Finance sent the file to the bank. Only a downloaded file can have been sent. */
export async function markSubmitted(p: Payments, req: StepRequest): Promise<StepOutcome> {
  return inTransaction(p.pool, async (client) => {
    const b = await lockBatch(client, req.batchId);
    if (await replayOf(client, req.requestKey, req.batchId, "SUBMITTED")) return { batchId: b.id, replayed: true };
    if (b.status === "CREATED") throw badInput(`Download the bank file of batch ${b.id} before marking it submitted.`);
    if (b.status !== "DOWNLOADED") {
      throw badInput(`Batch ${b.id} was already marked ${b.status.toLowerCase()}${doneBy(b)}. Nothing was changed.`);
    }
    await client.query(
      `UPDATE settlement_batches SET status = 'SUBMITTED', submitted_at = now(), submitted_by_user_id = $2
        WHERE id = $1`,
      [b.id, req.actor.actorId],
    );
    await recordStep(client, {
      batchId: b.id,
      step: "SUBMITTED",
      actorUserId: req.actor.actorId,
      requestKey: req.requestKey,
    });
    await recordAudit(client, stepRow(req.actor, "submitted", b.id, { status: "SUBMITTED", netCents: b.net_cents }));
    p.logger.info({ batchId: b.id, actor: req.actor.actorId }, "settlement batch marked submitted");
    return { batchId: b.id, replayed: false };
  });
}

/**
 * The bank paid the batch: its payable (the net of every line not returned) moves out of "settlements payable"
 * into the federation's bank account, once. Lines returned later come back out of the bank account.
 */
export async function markPaid(p: Payments, req: StepRequest): Promise<StepOutcome> {
  return inTransaction(p.pool, async (client) => {
    const b = await lockBatch(client, req.batchId);
    if (await replayOf(client, req.requestKey, req.batchId, "PAID")) return { batchId: b.id, replayed: true };
    if (b.status === "PAID") throw badInput(`Batch ${b.id} was already marked paid${doneBy(b)}. Nothing was changed.`);
    if (b.status !== "SUBMITTED") throw badInput(`Mark batch ${b.id} submitted to the bank before marking it paid.`);
    const { rows } = await client.query<{ net: string }>(
      "SELECT coalesce(sum(net_cents), 0)::text AS net FROM settlements WHERE batch_id = $1 AND returned_at IS NULL",
      [b.id],
    );
    const net = BigInt(rows[0]!.net);
    if (net <= 0n)
      throw badInput(`Every line of batch ${b.id} was returned by the bank: there is nothing to mark paid.`);
    const posted = await bookInTransaction(client, {
      idempotencyKey: `settlement-paid:${b.id}`,
      type: "Settlement",
      description: `Settlement batch ${lodgementReference(b.id, b.reference_date)} paid by the bank: ${formatMoney(net)}.`,
      actorUserId: req.actor.actorId,
      entries: [
        { system: "SETTLEMENTS_PAYABLE", amountCents: -net, counterparty: 1 },
        { system: "FEDERATION_BANK", amountCents: net, counterparty: 0 },
      ],
    });
    // The batch row is locked and its status was not PAID, so the key cannot have been booked: anything but POSTED
    // is a broken ledger, not a race.
    if (posted.status !== "POSTED") throw conflict(`Batch ${b.id}'s payment could not be booked (${posted.status}).`);
    await client.query(
      `UPDATE settlement_batches SET status = 'PAID', paid_at = now(), paid_by_user_id = $2, paid_posting_id = $3
        WHERE id = $1`,
      [b.id, req.actor.actorId, String(posted.postingId)],
    );
    await recordStep(client, {
      batchId: b.id,
      step: "PAID",
      actorUserId: req.actor.actorId,
      requestKey: req.requestKey,
      note: formatMoney(net),
    });
    await recordAudit(
      client,
      stepRow(req.actor, "paid", b.id, { status: "PAID", paidCents: net, postingId: posted.postingId }),
    );
    p.logger.info({ batchId: b.id, actor: req.actor.actorId, net: String(net) }, "settlement batch marked paid");
    return { batchId: b.id, replayed: false };
  });
}

/** The entries that undo one settlement line: the club gets its gross back, the fee is given back too. */
function returnEntries(
  line: { organisation_id: number; gross: bigint; fee: bigint; net: bigint },
  from: "SETTLEMENTS_PAYABLE" | "FEDERATION_BANK",
): EntryInput[] {
  const entries: EntryInput[] = [{ organisationId: line.organisation_id, amountCents: line.gross, counterparty: 1 }];
  if (line.net > 0n) entries.push({ system: from, amountCents: -line.net, counterparty: 0 });
  if (line.fee > 0n) entries.push({ system: "FEE_INCOME", amountCents: -line.fee, counterparty: 0 });
  return entries;
}

/**
 * The bank returned one line (wrong or closed account): the whole settlement of that club is undone on the ledger
 * — its gross back on the club's account with a statement line saying why, the fee given back (it is charged again
 * when the club is next settled) — and the club is flagged to fix its bank details. Before the batch is marked
 * paid the money comes out of the payable; after, out of the bank account it came back into.
 */
export async function returnLine(
  p: Payments,
  req: StepRequest & { settlementId: number; reason: string },
): Promise<StepOutcome> {
  return inTransaction(p.pool, async (client) => {
    const b = await lockBatch(client, req.batchId);
    if (await replayOf(client, req.requestKey, req.batchId, "RETURNED", req.settlementId)) {
      return { batchId: b.id, replayed: true };
    }
    const { rows } = await client.query<{
      organisation_id: number;
      gross: string;
      fee: string;
      net: string;
      bsb: string;
      account_number: string;
      account_name: string;
      returned_at: Date | null;
    }>(
      `SELECT organisation_id, gross_cents::text AS gross, fee_cents::text AS fee, net_cents::text AS net, bsb,
              account_number, account_name, returned_at
         FROM settlements WHERE id = $1 AND batch_id = $2`,
      [req.settlementId, b.id],
    );
    const row = rows[0];
    if (!row) throw notFound("That settlement line is not in this batch.");
    if (row.returned_at) throw badInput(`${row.account_name}'s line was already returned. Nothing was changed.`);
    if (b.status !== "SUBMITTED" && b.status !== "PAID") {
      throw badInput(`Batch ${b.id} has not been submitted to the bank: the bank cannot have returned a line of it.`);
    }
    const line = {
      organisation_id: row.organisation_id,
      gross: BigInt(row.gross),
      fee: BigInt(row.fee),
      net: BigInt(row.net),
    };
    const ref = lodgementReference(b.id, b.reference_date);
    const posted = await bookInTransaction(client, {
      idempotencyKey: `settlement-return:${req.settlementId}`,
      type: "Settlement",
      description:
        `Settlement ${ref} returned by the bank (${req.reason}): ${formatMoney(line.net)} was not paid to BSB ` +
        `${row.bsb} account ${row.account_number}; ${formatMoney(line.gross)} is back on this account. ` +
        "Please check the club's bank details.",
      actorUserId: req.actor.actorId,
      entries: returnEntries(line, b.status === "PAID" ? "FEDERATION_BANK" : "SETTLEMENTS_PAYABLE"),
    });
    if (posted.status !== "POSTED") throw conflict(`The return could not be booked (${posted.status}).`);
    await client.query(
      `UPDATE settlements SET returned_at = now(), returned_by_user_id = $2, return_reason = $3, return_posting_id = $4
        WHERE id = $1`,
      [req.settlementId, req.actor.actorId, req.reason, String(posted.postingId)],
    );
    await client.query(
      `UPDATE organisations SET bank_details_flag = $2, bank_details_flagged_at = now() WHERE id = $1`,
      [line.organisation_id, `Settlement ${ref} was returned by the bank (${req.reason}): fix the bank details.`],
    );
    await recordStep(client, {
      batchId: b.id,
      settlementId: req.settlementId,
      step: "RETURNED",
      actorUserId: req.actor.actorId,
      requestKey: req.requestKey,
      note: req.reason,
    });
    await recordAudit(
      client,
      stepRow(
        req.actor,
        "line_returned",
        b.id,
        {
          settlementId: req.settlementId,
          reason: req.reason,
          grossCents: line.gross,
          netCents: line.net,
          postingId: posted.postingId,
        },
        line.organisation_id,
      ),
    );
    p.logger.info(
      { batchId: b.id, settlementId: req.settlementId, actor: req.actor.actorId },
      "settlement line returned",
    );
    return { batchId: b.id, replayed: false };
  });
}

/** A batch with its lines, their clubs' bank flags and every step with who made it: the batch page. */
export async function batchDetail(p: Payments, batchId: number) {
  const batch = await p.db.settlementBatch.findUnique({
    where: { id: batchId },
    include: { settlements: { orderBy: { id: "asc" } } },
  });
  if (!batch) throw notFound("That settlement does not exist.");
  const [steps, flags] = await Promise.all([
    p.pool.query<{ step: StepName; at: Date; who: string; note: string | null; club: string | null }>(
      `SELECT s.step, s.created_at AS at, u.first_name || ' ' || u.last_name AS who, s.note, st.account_name AS club
         FROM settlement_batch_steps s JOIN users u ON u.id = s.actor_user_id
         LEFT JOIN settlements st ON st.id = s.settlement_id
        WHERE s.batch_id = $1 ORDER BY s.id`,
      [batchId],
    ),
    p.db.organisation.findMany({
      where: { id: { in: batch.settlements.map((s) => s.organisationId) }, bankDetailsFlag: { not: null } },
      select: { id: true, bankDetailsFlag: true },
    }),
  ]);
  const flagOf = new Map(flags.map((f) => [f.id, f.bankDetailsFlag]));
  return {
    batch,
    lines: batch.settlements.map((s) => ({ ...s, bankFlag: flagOf.get(s.organisationId) ?? null })),
    steps: steps.rows,
  };
}

export interface UnpaidPayable {
  batchId: number;
  status: BatchStatus;
  club: string;
  netCents: bigint;
  confirmedAt: Date;
  ageDays: number;
}

/**
 * Reconciliation's view of the payable: every batch line not yet paid nor returned, with its age in days, and the
 * ledger's payable beside it (the rest is manual settlements, which no batch pays).
 */
export async function unpaidPayables(p: Payments) {
  const { rows } = await p.pool.query<{
    batch_id: number;
    status: BatchStatus;
    club: string;
    net: string;
    at: Date;
    age: number;
  }>(
    `SELECT b.id AS batch_id, b.status, s.account_name AS club, s.net_cents::text AS net, b.created_at AS at,
            ((now() AT TIME ZONE $1)::date - (b.created_at AT TIME ZONE $1)::date) AS age
       FROM settlements s JOIN settlement_batches b ON b.id = s.batch_id
      WHERE b.status <> 'PAID' AND s.returned_at IS NULL AND s.net_cents > 0
      ORDER BY b.created_at, s.id`,
    [p.timeZone],
  );
  const lines: UnpaidPayable[] = rows.map((r) => ({
    batchId: r.batch_id,
    status: r.status,
    club: r.club,
    netCents: BigInt(r.net),
    confirmedAt: r.at,
    ageDays: r.age,
  }));
  const account = await p.db.account.findUniqueOrThrow({ where: { systemCode: "SETTLEMENTS_PAYABLE" } });
  const inBatches = lines.reduce((a, l) => a + l.netCents, 0n);
  return {
    lines,
    inBatchesCents: inBatches,
    ledgerCents: account.balanceCents,
    outsideCents: account.balanceCents - inBatches,
  };
}
