// What a key may read: its charges (an organisation's key: only its organisation's), and members.
import type { z } from "zod";
import { type ApiServices, mayReadBalances } from "./api-services";
import { type ChargeRow, chargeView, SELECT_CHARGES } from "./charge-records";
import type { ApiCaller } from "./keys";
import { problem } from "./problem";
import type { listChargesQuery } from "./schemas";

/** The id inside "ch_42" (or "iou_3"); null when it is not one. */
export function idFrom(prefix: string, raw: string): number | null {
  const m = new RegExp(`^${prefix}_(\\d{1,9})$`).exec(raw);
  return m ? Number(m[1]) : null;
}

/** A charge the key may see; the same 404 for one that does not exist and one of another organisation. */
export async function visibleCharge(s: ApiServices, caller: ApiCaller, rawId: string): Promise<ChargeRow> {
  const id = idFrom("ch", rawId);
  const { rows } =
    id === null ? { rows: [] } : await s.p.pool.query<ChargeRow>(`${SELECT_CHARGES} WHERE c.id = $1`, [id]);
  const row = rows[0];
  if (!row || (caller.organisationId !== null && row.organisation_id !== caller.organisationId)) {
    throw problem("not_found", `No charge ${rawId}.`);
  }
  return row;
}

export async function getCharge(s: ApiServices, caller: ApiCaller, rawId: string) {
  return chargeView(s, await visibleCharge(s, caller, rawId), caller);
}

/** Newest first; `cursor` is the next_cursor of the page before. */
export async function listCharges(s: ApiServices, caller: ApiCaller, q: z.output<typeof listChargesQuery>) {
  const where: string[] = [];
  const args: unknown[] = [];
  const add = (sql: string, v: unknown) => {
    args.push(v);
    where.push(sql.replace("?", `$${args.length}`));
  };
  if (caller.organisationId !== null) add("c.organisation_id = ?", caller.organisationId);
  if (q.reference) add("c.reference = ?", q.reference);
  if (q.created_after) add("c.created_at > ?", new Date(q.created_after));
  if (q.cursor) add("c.id < ?", Number(q.cursor));
  args.push(q.limit + 1);
  const { rows } = await s.p.pool.query<ChargeRow>(
    `${SELECT_CHARGES} ${where.length ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY c.id DESC LIMIT $${args.length}`,
    args,
  );
  const page = rows.slice(0, q.limit);
  const hasMore = rows.length > q.limit;
  return {
    object: "list" as const,
    data: page.map((r) => chargeView(s, r, caller)),
    has_more: hasMore,
    next_cursor: hasMore ? String(page[page.length - 1]!.id) : null,
  };
}

/** Whether a member can be charged; the balance only for federation keys with read. */
export async function getMember(s: ApiServices, caller: ApiCaller, systemNumber: number) {
  const u = await s.p.db.user.findUnique({
    where: { systemNumber },
    select: {
      firstName: true,
      lastName: true,
      isActive: true,
      autoTopUpStatus: true,
      account: { select: { balanceCents: true } },
    },
  });
  if (!u) throw problem("member_not_found", `No member has ABF number ${systemNumber}.`);
  return {
    object: "member" as const,
    member: systemNumber,
    name: `${u.firstName} ${u.lastName}`,
    active: u.isActive,
    chargeable: u.isActive,
    auto_top_up: u.autoTopUpStatus === "ON",
    ...(mayReadBalances(caller) ? { balance: Number(u.account?.balanceCents ?? 0n) } : {}),
  };
}
