// IOUs through the API: an organisation records that a player owes it (as club sessions did for players who
// could not pay), reads one, or cancels an unpaid one. A paid IOU is removed by its payment, so it reads as gone.
import type { IouRow } from "../payments/iou-events";
import { cancelIou, createIou } from "../payments/ious";
import type { ApiServices } from "./api-services";
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
    // createIou records iou.created in this transaction.
    async (client, iou) => {
      await client.query("INSERT INTO api_iou_keys (iou_key, iou_id) VALUES ($1, $2)", [iouKey, iou.id]);
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

/** Cancels an unpaid IOU of the key's organisation (any, for a federation key); iou.cancelled goes with it. */
export async function cancelApiIou(s: ApiServices, caller: ApiCaller, rawId: string) {
  const id = idFrom("iou", rawId);
  const removed =
    id === null ? null : await cancelIou(s.p, { iouId: id, organisationId: caller.organisationId }).catch(() => null);
  if (!removed) throw problem("not_found", `No unpaid IOU ${rawId} (paid and cancelled IOUs are removed).`);
  return iouView(removed, "cancelled");
}

const SELECT_IOUS = `
  SELECT i.id, i.system_number, o.club_number, i.organisation_id, i.amount_cents::text, i.description,
         i.club_session_id, i.created_at
    FROM ious i JOIN organisations o ON o.id = i.organisation_id`;

function iouView(row: IouRow, status: "unpaid" | "cancelled") {
  return {
    id: `iou_${row.id}`,
    object: "iou" as const,
    status,
    member: row.system_number,
    organisation: row.club_number,
    amount: Number(row.amount_cents),
    currency: "aud" as const,
    description: row.description,
    session_id: row.club_session_id,
    created: row.created_at.toISOString(),
  };
}
