// Card payments for finance staff (reference §3.17): the list (those that reached Stripe), each with the
// settlement Stripe should pay us by our fee settings, and one payment's detail with Stripe's actual fee.
import { dateTimeFormat } from "../../lib/intl-cache";
import { percentOf } from "../../lib/money";
import type { Payments } from "../payments/context";
import { activePaymentSettings } from "../payments/settings";

export const CARD_PAGE = 30;
const REACHED_STRIPE = ["PENDING", "SUCCEEDED", "PARTIAL_REFUND", "REFUNDED", "REQUIRES_ACTION", "FAILED"] as const;

function range(p: Payments, from?: string, to?: string) {
  return {
    ...(from ? { gte: new Date(`${from}T00:00:00${offsetOf(p.timeZone, from)}`) } : {}),
    ...(to ? { lt: new Date(new Date(`${to}T00:00:00${offsetOf(p.timeZone, to)}`).getTime() + 86_400_000) } : {}),
  };
}

/** "+10:00" / "+11:00": the zone's UTC offset at midnight of `date` (enough for day boundaries). */
function offsetOf(timeZone: string, date: string) {
  const d = new Date(`${date}T12:00:00Z`);
  const name = dateTimeFormat("en-US", { timeZone, timeZoneName: "longOffset" })
    .formatToParts(d)
    .find((x) => x.type === "timeZoneName")?.value;
  const m = /GMT([+-]\d{2}):?(\d{2})?/.exec(name ?? "");
  return m ? `${m[1]}:${m[2] ?? "00"}` : "Z";
}

export async function listCardPayments(p: Payments, q: { from?: string; to?: string; page?: number; all?: boolean }) {
  const where = {
    status: { in: [...REACHED_STRIPE] },
    ...(q.from || q.to ? { createdAt: range(p, q.from, q.to) } : {}),
  };
  const [rows, total, settings] = await Promise.all([
    p.db.cardPayment.findMany({
      where,
      orderBy: { id: "desc" },
      ...(q.all ? {} : { take: CARD_PAGE, skip: ((q.page ?? 1) - 1) * CARD_PAGE }),
      include: { user: { select: { id: true, firstName: true, lastName: true, systemNumber: true } } },
    }),
    p.db.cardPayment.count({ where }),
    activePaymentSettings(p.db),
  ]);
  return {
    rows: rows.map((r) => ({ ...r, expectedSettlementCents: expectedSettlement(r.amountCents, settings) })),
    total,
    pages: Math.max(1, Math.ceil(total / CARD_PAGE)),
  };
}

/** (amount − fixed fee) × (1 − Stripe %), as the original estimates what Stripe pays out. */
export function expectedSettlement(amountCents: bigint, s: { stripeFixedFeeCents: number; stripeFeePpm: number }) {
  const afterFixed = amountCents - BigInt(s.stripeFixedFeeCents);
  return afterFixed - percentOf(afterFixed, s.stripeFeePpm);
}

export async function cardPaymentDetail(p: Payments, id: number) {
  const card = Number.isSafeInteger(id)
    ? await p.db.cardPayment.findUnique({
        where: { id },
        include: { user: { select: { id: true, firstName: true, lastName: true, systemNumber: true } }, refunds: true },
      })
    : null;
  if (!card) return null;
  const settings = await activePaymentSettings(p.db);
  const estimateFee = percentOf(card.amountCents, settings.stripeFeePpm) + BigInt(settings.stripeFixedFeeCents);
  const actual = card.balanceTransactionId
    ? await p.gateway.balanceTransaction(card.balanceTransactionId).catch(() => null)
    : null;
  return { card, estimateFeeCents: estimateFee, actual };
}
