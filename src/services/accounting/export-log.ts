// Which periods were exported, of which kind, by whom. A period overlapping one already exported is refused
// unless finance asks for it explicitly ("export again"); the same form sent twice answers its first export.
import { badInput } from "../../lib/errors";
import { type AuditActor, recordAudit } from "../audit/record";
import { inTransaction } from "../ledger/transaction";
import type { Payments } from "../payments/context";

export type ExportKind = "JOURNAL" | "BILLS" | "SALES_INVOICES";

export interface ExportRequest {
  kind: ExportKind;
  format: string;
  from: string;
  to: string;
  requestKey: string;
  reexport: boolean;
  lineCount: number;
  totalCents: bigint;
  actor: AuditActor & { actorId: number };
}

export interface PastExport {
  id: number;
  kind: ExportKind;
  format: string;
  from: string;
  to: string;
  reexport: boolean;
  lineCount: number;
  totalCents: bigint;
  who: string;
  at: Date;
}

const PAST = `SELECT x.id, x.kind, x.format, to_char(x.period_from, 'YYYY-MM-DD') AS "from",
                     to_char(x.period_to, 'YYYY-MM-DD') AS "to", x.reexport, x.line_count AS "lineCount",
                     x.total_cents::text AS "totalCents", u.first_name || ' ' || u.last_name AS who, x.exported_at AS at
                FROM accounting_exports x JOIN users u ON u.id = x.exported_by_user_id`;
type PastRow = Omit<PastExport, "totalCents"> & { totalCents: string };
const past = (r: PastRow): PastExport => ({ ...r, totalCents: BigInt(r.totalCents) });

// One export decision at a time, so two staff exporting the same period at once cannot both pass the check.
const EXPORT_LOCK = 7_311_020;

export const KIND_NAMES: Record<ExportKind, string> = {
  JOURNAL: "journal",
  BILLS: "settlement bills",
  SALES_INVOICES: "settlement fee invoices",
};

/**
 * Records an export and its audit row (`accounting.export`, or `accounting.reexport` for a period exported before)
 * in one transaction; answers whether it is a replay of the same form (no new row). Refuses an unasked-for overlap.
 */
export async function recordExport(p: Payments, req: ExportRequest): Promise<{ replayed: boolean }> {
  return inTransaction(p.pool, async (client) => {
    await client.query("SELECT pg_advisory_xact_lock($1)", [EXPORT_LOCK]);
    const same = await client.query<PastRow>(`${PAST} WHERE x.request_key = $1`, [req.requestKey]);
    const first = same.rows[0];
    if (first) {
      if (first.kind !== req.kind || first.format !== req.format || first.from !== req.from || first.to !== req.to) {
        throw badInput("This export form was already used for another export. Open the export page again.");
      }
      return { replayed: true };
    }
    const overlapping = await client.query<PastRow>(
      `${PAST} WHERE x.kind = $1 AND x.period_from <= $3::date AND x.period_to >= $2::date ORDER BY x.id`,
      [req.kind, req.from, req.to],
    );
    if (overlapping.rows.length > 0 && !req.reexport) {
      const list = overlapping.rows
        .map((r) => `${r.from} to ${r.to} (${r.format}) by ${r.who} on ${r.at.toISOString().slice(0, 10)}`)
        .join("; ");
      throw badInput(
        `The ${KIND_NAMES[req.kind]} of this period was already exported: ${list}. Nothing was exported. ` +
          `To export it again, tick "Export again" and confirm.`,
      );
    }
    const made = await client.query<{ id: number }>(
      `INSERT INTO accounting_exports (kind, format, period_from, period_to, request_key, reexport, line_count,
                                       total_cents, exported_by_user_id)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`,
      [
        req.kind,
        req.format,
        req.from,
        req.to,
        req.requestKey,
        overlapping.rows.length > 0,
        req.lineCount,
        String(req.totalCents),
        req.actor.actorId,
      ],
    );
    const again = overlapping.rows.length > 0;
    await recordAudit(client, {
      ...req.actor,
      action: again ? "accounting.reexport" : "accounting.export",
      targetType: "accounting_export",
      targetId: made.rows[0]!.id,
      after: {
        kind: req.kind,
        format: req.format,
        from: req.from,
        to: req.to,
        lineCount: req.lineCount,
        totalCents: req.totalCents,
        ...(again ? { exportedBefore: overlapping.rows.map((r) => r.id) } : {}),
      },
    });
    p.logger.info(
      { kind: req.kind, format: req.format, from: req.from, to: req.to, actor: req.actor.actorId },
      "accounting export recorded",
    );
    return { replayed: false };
  });
}

export async function pastExports(p: Payments, limit = 50): Promise<PastExport[]> {
  const { rows } = await p.pool.query<PastRow>(`${PAST} ORDER BY x.id DESC LIMIT $1`, [limit]);
  return rows.map(past);
}
