// The accounting journal of a period: every ledger movement summed per local day and per ledger account (and
// transaction type, where the mapping names one), mapped to the chart of accounts. Each day is one journal; it
// balances because every posting does and all of a posting's entries carry its one timestamp.
// Signs: the ledger's positive (money into an account — a member's balance, income, a payable growing) is a
// credit in the federation's books; negative (card funds or bank money held, income given back) is a debit.
import { badInput } from "../../lib/errors";
import type { Payments } from "../payments/context";
import { LEDGER_ACCOUNT_SQL, ledgerAccountLabel, type Mapping, mapper } from "./mappings";

export interface JournalLine {
  date: string;
  ledgerAccount: string;
  /** The mapping's transaction type ("*": every type of the account). */
  transactionType: string;
  accountCode: string;
  taxRateName: string;
  description: string;
  /** The ledger's signed sum: positive = credit. */
  amountCents: bigint;
  debitCents: bigint;
  creditCents: bigint;
  /** Tax included in the line's amount (same sign), rounded to the cent (see `taxIncluded`). */
  taxCents: bigint;
}

export interface Journal {
  from: string;
  to: string;
  days: { date: string; lines: JournalLine[]; debitCents: bigint; creditCents: bigint }[];
  lineCount: number;
  debitCents: bigint;
  creditCents: bigint;
  /** Ledger accounts (and types) with movements in the period but no mapping. */
  unmapped: string[];
}

/**
 * The tax included in a tax-inclusive amount at `ppm`: amount × ppm / (1,000,000 + ppm) — for GST at 10 %
 * (100,000 ppm) exactly amount / 11 — rounded to the nearest cent, half away from zero (amount / 11 is never
 * exactly half a cent, so for GST no tie arises).
 */
export function taxIncluded(amountCents: bigint, ppm: number): bigint {
  if (ppm === 0) return 0n;
  const num = (amountCents < 0n ? -amountCents : amountCents) * BigInt(ppm) * 2n;
  const den = (1_000_000n + BigInt(ppm)) * 2n;
  const abs = (num + den / 2n) / den;
  return amountCents < 0n ? -abs : abs;
}

export const MAX_PERIOD_DAYS = 400;

export function checkPeriod(from: string, to: string) {
  if (from > to) throw badInput("The period's first day is after its last day.");
  const days = (Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000 + 1;
  if (days > MAX_PERIOD_DAYS) throw badInput(`A period is at most ${MAX_PERIOD_DAYS} days.`);
}

/** The journal of the local days `from`..`to` (both included), under the given mapping. */
export async function journal(p: Payments, from: string, to: string, mapping: Mapping[]): Promise<Journal> {
  checkPeriod(from, to);
  const { rows } = await p.pool.query<{ day: string; account: string; type: string; sum: string }>(
    `SELECT to_char((e.created_at AT TIME ZONE $3)::date, 'YYYY-MM-DD') AS day, ${LEDGER_ACCOUNT_SQL} AS account,
            e.type::text AS type, sum(e.amount_cents)::text AS sum
       FROM entries e JOIN accounts a ON a.id = e.account_id
      WHERE e.created_at >= ($1::date::timestamp AT TIME ZONE $3)
        AND e.created_at < (($2::date + 1)::timestamp AT TIME ZONE $3)
      GROUP BY 1, 2, 3
      ORDER BY 1, 2, 3`,
    [from, to, p.timeZone],
  );
  const find = mapper(mapping);
  const unmapped = new Set<string>();
  // Per day, per mapping row: the sum of the account's movements that the row maps.
  const lines = new Map<string, { date: string; m: Mapping; sum: bigint }>();
  for (const r of rows) {
    const m = find(r.account, r.type);
    if (!m) {
      unmapped.add(r.account);
      continue;
    }
    const k = `${r.day}|${m.id}`;
    const line = lines.get(k) ?? { date: r.day, m, sum: 0n };
    line.sum += BigInt(r.sum);
    lines.set(k, line);
  }
  const days: Journal["days"] = [];
  for (const { date, m, sum } of lines.values()) {
    if (sum === 0n) continue; // a day's movements that cancel out leave nothing to book
    let day = days.at(-1);
    if (day?.date !== date) {
      day = { date, lines: [], debitCents: 0n, creditCents: 0n };
      days.push(day);
    }
    const line: JournalLine = {
      date,
      ledgerAccount: m.ledgerAccount,
      transactionType: m.transactionType,
      accountCode: m.accountCode,
      taxRateName: m.taxRateName,
      description: ledgerAccountLabel(m.ledgerAccount) + (m.transactionType === "*" ? "" : ` (${m.transactionType})`),
      amountCents: sum,
      debitCents: sum < 0n ? -sum : 0n,
      creditCents: sum > 0n ? sum : 0n,
      taxCents: taxIncluded(sum, m.taxPpm),
    };
    day.lines.push(line);
    day.debitCents += line.debitCents;
    day.creditCents += line.creditCents;
  }
  return {
    from,
    to,
    days,
    lineCount: days.reduce((n, d) => n + d.lines.length, 0),
    debitCents: days.reduce((a, d) => a + d.debitCents, 0n),
    creditCents: days.reduce((a, d) => a + d.creditCents, 0n),
    unmapped: [...unmapped].sort(),
  };
}
