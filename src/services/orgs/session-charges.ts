// A club charges a session's players itself (issue 16): the rows of the "Charge a session" form are previewed
// (booking nothing) and then confirmed through the API's batch service (`runBatch`), as the club paying itself
// with when_insufficient "iou": players who cannot pay, even after an auto top-up, owe the club an IOU, as club
// sessions did. A confirmation is a session_charge_batches row found again by the form's request id, so a second
// submit of the same form books nothing; its charges are api_charges rows naming the batch, booked under
// "session:<batch id>:<item>".
import { type AuditActor, recordAudit } from "../audit/record";
import { inTransaction } from "../ledger/transaction";
import { createHash } from "node:crypto";
import { badInput, notFound } from "../../lib/errors";
import type { ApiServices, ChargeCaller } from "../api/api-services";
import { type BatchItemResult, type PreviewOutcome, previewBatch, runBatch } from "../api/batch-charges";
import type { ChargeRequest } from "../api/schemas";
import type { SessionRow } from "./session-rows";

export interface SessionForm {
  organisationId: number;
  rows: SessionRow[];
  /** For rows without their own. */
  description: string;
  reference: string | null;
}

/** A row's outcome once booked. */
export type SessionOutcome = "paid" | "topped_up" | "iou" | "unknown_member" | "inactive_member" | "failed";

export interface SessionResult {
  line: number;
  member: number;
  name: string | null;
  amountCents: number;
  description: string;
  outcome: SessionOutcome;
  charge: string | null;
  postingReference: string | null;
  topUpCents: number | null;
  iou: string | null;
  message: string | null;
}

/** How long a confirmation may go without renewing its lease before another submit may take the batch over. */
const LEASE_MS = 60_000;

const chargeRequests = (f: SessionForm): ChargeRequest[] =>
  f.rows.map((r) => ({
    member: r.member,
    amount: Number(r.amountCents),
    currency: "aud",
    description: r.description ?? f.description,
    when_insufficient: "iou",
    ...(f.reference ? { reference: f.reference } : {}),
  }));

/** The club pays itself through the batch service; IOUs for who cannot pay; no balances shown (not a key). */
const pageCaller = (organisationId: number, sessionBatchId: number | null): ChargeCaller => ({
  keyId: null,
  sessionBatchId,
  organisationId,
  scopes: ["charges:write", "ious:write"],
});

/** What each row would do now, booking nothing. */
export async function previewSession(s: ApiServices, f: SessionForm) {
  const preview = await previewBatch(s, chargeRequests(f));
  const lines = preview.map((p) => ({ ...p, line: f.rows[p.index]!.line, balance: undefined }));
  const count = (o: PreviewOutcome) => lines.filter((l) => l.outcome === o).length;
  return {
    lines,
    totalCents: f.rows.reduce((t, r) => t + r.amountCents, 0n),
    counts: {
      pays: count("pays"),
      tops_up: count("tops_up"),
      iou: count("iou"),
      unknown: count("unknown_member") + count("inactive_member"),
    },
  };
}

/** Identifies what a form carried (the club, its description and reference, and every row in order). */
function fingerprintOf(f: SessionForm) {
  const rows = f.rows.map((r) => [r.member, r.amountCents.toString(), r.description]);
  return createHash("sha256")
    .update(JSON.stringify([f.organisationId, f.description, f.reference, rows]))
    .digest("hex");
}

export type Confirmed = { batchId: number; state: "booked" | "already_booked" | "booking" };

/**
 * Books the form's rows once. The first submit of a form books them; another submit of the same form shows
 * that batch ("already_booked", or "booking" while the first still runs); the same form carrying different rows
 * is refused. A confirmation whose process died stops renewing its lease; once it runs out, a submit of the
 * same form runs the batch again, and the charges' keys make that book only what was not booked yet.
 */
export async function confirmSession(
  s: ApiServices,
  f: SessionForm & { requestId: string; actorUserId: number },
  audit?: AuditActor,
): Promise<Confirmed> {
  const pool = s.p.pool;
  const fingerprint = fingerprintOf(f);
  const inserted = await pool.query<{ id: number }>(
    `INSERT INTO session_charge_batches (organisation_id, request_id, fingerprint, description, reference,
            item_count, total_cents, created_by_user_id, locked_until)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, now() + $9::interval)
     ON CONFLICT (organisation_id, request_id) DO NOTHING RETURNING id`,
    [
      f.organisationId,
      f.requestId,
      fingerprint,
      f.description,
      f.reference,
      f.rows.length,
      f.rows.reduce((t, r) => t + r.amountCents, 0n).toString(),
      f.actorUserId,
      `${LEASE_MS} milliseconds`,
    ],
  );
  let batchId = inserted.rows[0]?.id;
  if (batchId === undefined) {
    const { rows } = await pool.query<{ id: number; fingerprint: string; done: boolean }>(
      `SELECT id, fingerprint, results IS NOT NULL AS done FROM session_charge_batches
        WHERE organisation_id = $1 AND request_id = $2`,
      [f.organisationId, f.requestId],
    );
    const seen = rows[0]!;
    if (seen.fingerprint !== fingerprint) {
      throw badInput("This form was already used to charge a different session. Preview the charges again.");
    }
    if (seen.done) return { batchId: seen.id, state: "already_booked" };
    const taken = await pool.query(
      `UPDATE session_charge_batches SET locked_until = now() + $2::interval
        WHERE id = $1 AND results IS NULL AND locked_until < now()`,
      [seen.id, `${LEASE_MS} milliseconds`],
    );
    if (taken.rowCount !== 1) return { batchId: seen.id, state: "booking" };
    batchId = seen.id;
  }
  await runWithLease(s, batchId, () => book(s, f, batchId, audit));
  return { batchId, state: "booked" };
}

/** Renews the batch's lease while `work` runs; on a failure, gives it up so the same form can try again. */
async function runWithLease(s: ApiServices, batchId: number, work: () => Promise<void>) {
  const renew = setInterval(() => {
    s.p.pool
      .query(
        "UPDATE session_charge_batches SET locked_until = now() + $2::interval WHERE id = $1 AND results IS NULL",
        [batchId, `${LEASE_MS} milliseconds`],
      )
      .catch(() => {}); // a missed renewal only shortens the lease
  }, LEASE_MS / 3);
  try {
    await work();
  } catch (e) {
    await s.p.pool
      .query("UPDATE session_charge_batches SET locked_until = now() WHERE id = $1 AND results IS NULL", [batchId])
      .catch(() => {});
    throw e;
  } finally {
    clearInterval(renew);
  }
}

/** Books the rows, then records the outcome; the audit row is written with the outcome, in its transaction. */
async function book(s: ApiServices, f: SessionForm, batchId: number, audit?: AuditActor) {
  const requests = chargeRequests(f);
  const answers = await runBatch(s, pageCaller(f.organisationId, batchId), requests, `session:${batchId}`);
  const users = await s.p.db.user.findMany({
    where: { systemNumber: { in: [...new Set(f.rows.map((r) => r.member))] } },
    select: { systemNumber: true, firstName: true, lastName: true },
  });
  const names = new Map(users.map((u) => [u.systemNumber, `${u.firstName} ${u.lastName}`]));
  const results = answers.map((a, i) => resultOf(a, f.rows[i]!, requests[i]!, names.get(f.rows[i]!.member) ?? null));
  await inTransaction(s.p.pool, async (client) => {
    const done = await client.query(
      `UPDATE session_charge_batches SET results = $2, finished_at = now(), locked_until = NULL
        WHERE id = $1 AND results IS NULL`,
      [batchId, JSON.stringify(results)],
    );
    if (done.rowCount !== 1 || !audit) return;
    const count = (o: SessionOutcome) => results.filter((r) => r.outcome === o).length;
    await recordAudit(client, {
      ...audit,
      action: "session_charges.confirm",
      targetType: "session_charge_batch",
      targetId: batchId,
      orgId: f.organisationId,
      after: {
        description: f.description,
        reference: f.reference,
        rows: f.rows.length,
        totalCents: f.rows.reduce((t, r) => t + r.amountCents, 0n),
        paid: count("paid") + count("topped_up"),
        ious: count("iou"),
        failed: results.length - count("paid") - count("topped_up") - count("iou"),
      },
    });
  });
}

function resultOf(a: BatchItemResult, row: SessionRow, req: ChargeRequest, name: string | null): SessionResult {
  const base = {
    line: row.line,
    member: row.member,
    name,
    amountCents: req.amount,
    description: req.description,
    charge: null,
    postingReference: null,
    topUpCents: null,
    iou: null,
    message: null,
  };
  if ("error" in a) {
    const outcome: SessionOutcome =
      a.error.code === "member_not_found"
        ? "unknown_member"
        : a.error.code === "member_inactive"
          ? "inactive_member"
          : "failed";
    return { ...base, outcome, message: a.error.detail };
  }
  const c = a.charge;
  const outcome: SessionOutcome =
    c.status === "iou" ? "iou" : c.status === "succeeded" ? (c.top_up_amount ? "topped_up" : "paid") : "failed";
  return {
    ...base,
    outcome,
    charge: c.id,
    postingReference: c.posting_reference,
    topUpCents: c.top_up_amount,
    iou: c.iou,
    message: c.failure_code === "top_up_failed" ? "The auto top-up from the saved card failed." : null,
  };
}

/** A club's batch (never another club's), with its results once booked. */
export async function sessionBatch(s: ApiServices, organisationId: number, id: number) {
  const batch = await s.p.db.sessionChargeBatch.findFirst({ where: { id, organisationId } });
  if (!batch) throw notFound("That session's charges do not exist.");
  return { ...batch, results: batch.results as SessionResult[] | null };
}

export async function recentSessionBatches(s: ApiServices, organisationId: number) {
  return s.p.db.sessionChargeBatch.findMany({
    where: { organisationId },
    orderBy: { id: "desc" },
    take: 10,
    select: {
      id: true,
      description: true,
      reference: true,
      itemCount: true,
      totalCents: true,
      createdAt: true,
      finishedAt: true,
    },
  });
}
