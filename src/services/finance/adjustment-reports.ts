// Reports of manual adjustments and settlements over a date range (reference §3.15, "specific transactions"):
// member lines and organisation lines, with for settlements the bank payment, the fee kept (gross) and its GST
// (one eleventh, rounded half away from zero to the cent).
import { badInput } from "../../lib/errors";
import type { Payments } from "../payments/context";

export const REPORT_TYPES = { manual_adjust: "Manual Adjustment", settlement: "Settlement" } as const;
export type ReportType = keyof typeof REPORT_TYPES;

export function reportType(raw: string): ReportType {
  if (Object.hasOwn(REPORT_TYPES, raw)) return raw as ReportType;
  throw badInput(`Invalid transaction type for this report: ${raw}`);
}

/** Half away from zero, in integers: GST is one eleventh of a GST-inclusive fee. */
export function gstOf(feeCents: bigint) {
  const neg = feeCents < 0n;
  const a = neg ? -feeCents : feeCents;
  const q = (a * 2n + 11n) / 22n;
  return neg ? -q : q;
}

export interface ReportLine {
  createdAt: Date;
  administrator: string | null;
  type: string;
  systemNumber: number | null;
  member: string | null;
  clubNumber: string | null;
  organisation: string | null;
  description: string;
  amountCents: bigint;
  paymentCents: bigint | null;
  feeCents: bigint | null;
  gstCents: bigint | null;
}

export async function adjustmentReport(p: Payments, type: ReportType, from: string, to: string) {
  const rows = await p.db.$queryRaw<
    {
      created_at: Date;
      admin: string | null;
      type: string;
      system_number: number | null;
      member: string | null;
      club_number: string | null;
      organisation: string | null;
      description: string;
      amount: bigint;
      payment: bigint | null;
    }[]
  >`
    SELECT e.created_at, a.first_name || ' ' || a.last_name AS admin, e.type, u.system_number,
           u.first_name || ' ' || u.last_name AS member, o.club_number, o.name AS organisation, p.description,
           e.amount_cents AS amount,
           (SELECT sum(x.amount_cents)::bigint FROM entries x JOIN accounts sa ON sa.id = x.account_id
             WHERE x.posting_id = p.id AND sa.system_code = 'SETTLEMENTS_PAYABLE') AS payment
      FROM postings p
      JOIN entries e ON e.posting_id = p.id
      JOIN accounts acc ON acc.id = e.account_id AND acc.kind IN ('MEMBER', 'ORGANISATION')
      LEFT JOIN users u ON u.id = acc.user_id
      LEFT JOIN organisations o ON o.id = acc.organisation_id
      LEFT JOIN users a ON a.id = p.actor_user_id
     WHERE p.type = ${REPORT_TYPES[type]}
       AND p.created_at >= (${from}::date::timestamp AT TIME ZONE ${p.timeZone})
       AND p.created_at < ((${to}::date + 1)::timestamp AT TIME ZONE ${p.timeZone})
     ORDER BY p.created_at, p.id`;
  const lines: ReportLine[] = rows.map((r) => {
    const fee = r.payment !== null ? -r.amount - r.payment : null;
    return {
      createdAt: r.created_at,
      administrator: r.admin,
      type: r.type,
      systemNumber: r.system_number,
      member: r.member,
      clubNumber: r.club_number,
      organisation: r.organisation,
      description: r.description,
      amountCents: r.amount,
      paymentCents: r.payment,
      feeCents: fee,
      gstCents: fee !== null ? gstOf(fee) : null,
    };
  });
  return {
    /** Every line, in booking order (the CSV's one table). */
    lines,
    members: lines.filter((l) => l.member),
    organisations: lines.filter((l) => l.organisation),
  };
}
