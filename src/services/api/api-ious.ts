// IOUs through the API: an organisation records that a player owes it (as club sessions did for players who
// could not pay), reads one, or cancels an unpaid one. A paid IOU is removed by its payment, so it reads as gone.
import { inTransaction } from "../ledger/transaction";
import { createIou } from "../payments/ious";
import type { ApiServices } from "./api-services";
import { type IouRow, iouView, recordIouEvent, SELECT_IOUS } from "./charges";
import type { ApiCaller } from "./keys";
import { problem } from "./problem";
import { idFrom } from "./reads";

export interface IouRequest {
  member: number;
  amount: number;
  description: string;
  organisation?: string;
  session_id?: number;
}

/** The key's organisation, or for a federation key the one it names. */
async function payeeOrganisation(s: ApiServices, caller: ApiCaller, clubNumber: string | undefined) {
  if (caller.organisationId !== null) {
    if (clubNumber === undefined) return caller.organisationId;
    const named = await s.p.db.organisation.findUnique({ where: { clubNumber }, select: { id: true } });
    if (named?.id !== caller.organisationId) {
      throw problem("forbidden_scope", "An organisation's key records IOUs only to its own organisation.");
    }
    return caller.organisationId;
  }
  if (clubNumber === undefined) throw problem("invalid_request", "A federation key must name the organisation.");
  const org = await s.p.db.organisation.findUnique({ where: { clubNumber }, select: { id: true } });
  if (!org) throw problem("not_found", `No organisation has club number ${clubNumber}.`);
  return org.id;
}

/** Records an IOU under `iouKey` (a retry finds the one already recorded). */
export async function createApiIou(s: ApiServices, caller: ApiCaller, req: IouRequest, iouKey: string) {
  const organisationId = await payeeOrganisation(s, caller, req.organisation);
  const recorded = await iouKeyed(s, iouKey);
  if (recorded !== null) return readIou(s, caller, `iou_${recorded}`);
  // Players without an account here can owe too (the club's own system tells them); the IOU names the number.
  const id = await createIou(
    s.p,
    {
      systemNumber: req.member,
      organisationId,
      amountCents: BigInt(req.amount),
      description: req.description,
      clubSessionId: req.session_id ?? null,
    },
    async (client, iou) => {
      await client.query("INSERT INTO api_iou_keys (iou_key, iou_id) VALUES ($1, $2)", [iouKey, iou.id]);
      await recordIouEvent(s, client, "iou.created", iou.id);
    },
  ).then((i) => i.id);
  return readIou(s, caller, `iou_${id}`);
}

export async function iouKeyed(s: ApiServices, iouKey: string) {
  const { rows } = await s.p.pool.query<{ iou_id: number }>("SELECT iou_id FROM api_iou_keys WHERE iou_key = $1", [
    iouKey,
  ]);
  return rows[0]?.iou_id ?? null;
}

async function visibleIou(s: ApiServices, caller: ApiCaller, rawId: string, client = s.p.pool) {
  const id = idFrom("iou", rawId);
  const { rows } = id === null ? { rows: [] } : await client.query<IouRow>(`${SELECT_IOUS} WHERE i.id = $1`, [id]);
  const row = rows[0];
  if (!row || (caller.organisationId !== null && row.organisation_id !== caller.organisationId)) {
    throw problem("not_found", `No unpaid IOU ${rawId} (paid and cancelled IOUs are removed).`);
  }
  return row;
}

export async function readIou(s: ApiServices, caller: ApiCaller, rawId: string) {
  return iouView(await visibleIou(s, caller, rawId), "unpaid");
}

/** Cancels an unpaid IOU: removed, with its iou.cancelled event, in one transaction. */
export async function cancelIou(s: ApiServices, caller: ApiCaller, rawId: string) {
  const row = await visibleIou(s, caller, rawId);
  return inTransaction(s.p.pool, async (client) => {
    if (s.recordEvent) {
      await s.recordEvent(client, {
        organisationId: row.organisation_id,
        type: "iou.cancelled",
        data: { iou: iouView(row, "cancelled") },
      });
    }
    const { rowCount } = await client.query("DELETE FROM ious WHERE id = $1", [row.id]);
    if (rowCount !== 1) throw problem("not_found", `No unpaid IOU ${rawId} (it was paid or cancelled meanwhile).`);
    return iouView(row, "cancelled");
  });
}
