// Money is integer cents (bigint) everywhere inside the app. These are the only places where text becomes cents
// or cents become text; there is no floating-point arithmetic on money anywhere.
import { badInput } from "./errors";

const AMOUNT = /^(\d{1,12})(?:\.(\d{1,2}))?$/;

/**
 * Parses a user-typed dollar amount ("12.34", "50") to cents. Rejects blanks, "$", thousands commas, signs, exponents, more
 * than two decimals and anything that is not a plain number, with a message naming the field.
 */
export function parseAmount(raw: unknown, label = "Amount"): bigint {
  if (typeof raw !== "string" && typeof raw !== "number") throw badInput(`${label} is required.`);
  // Plain digits with at most two decimals (issue 15): "$50" or "1,000" are refused with a message, not guessed at.
  const text = String(raw).trim();
  if (text === "") throw badInput(`${label} is required.`);
  const m = AMOUNT.exec(text);
  if (!m) {
    if (/^\d*\.\d{3,}$/.test(text)) throw badInput(`${label} can have at most two decimal places.`);
    if (/^-/.test(text)) throw badInput(`${label} cannot be negative.`);
    throw badInput(`${label} must be a number of dollars and cents, like 12.50.`);
  }
  const dollars = BigInt(m[1] ?? "0");
  const cents = BigInt((m[2] ?? "").padEnd(2, "0") || "0");
  return dollars * 100n + cents;
}

/** 123456n → "1,234.56"; -5n → "-0.05". */
export function formatAmount(cents: bigint | number): string {
  const c = BigInt(cents);
  const neg = c < 0n;
  const abs = neg ? -c : c;
  const dollars = (abs / 100n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  const rest = (abs % 100n).toString().padStart(2, "0");
  return `${neg ? "-" : ""}${dollars}.${rest}`;
}

/** 123456n → "1234.56": for files (CSV, spreadsheets, forms) where thousands separators get in the way. */
export function plainAmount(cents: bigint | number): string {
  return formatAmount(cents).replaceAll(",", "");
}

/** 123456n → "$1,234.56"; negative amounts as "-$5.00". */
export function formatMoney(cents: bigint | number): string {
  const s = formatAmount(cents);
  return s.startsWith("-") ? `-$${s.slice(1)}` : `$${s}`;
}

// Rates are parts per million of the amount: 1 % = 10,000 ppm, 1.35 % = 13,500 ppm, so every percentage the
// settings allow (up to four decimals) is an exact integer.
export const PPM_PER_PERCENT = 10_000;

/**
 * `ppm` parts per million of `cents`, rounded half away from zero to the cent: 2.5 cents → 3, −2.5 → −3.
 * This is the one rounding rule for fees, refunds and settlements.
 */
export function percentOf(cents: bigint, ppm: number): bigint {
  if (!Number.isInteger(ppm)) throw new RangeError("rate must be a whole number of ppm");
  const q = cents * BigInt(ppm);
  const half = 500_000n;
  return q >= 0n ? (q + half) / 1_000_000n : -((-q + half) / 1_000_000n);
}

/** "1.35" (percent) → 13500 ppm. At most four decimals, 0 to 100. */
export function parsePercent(raw: unknown, label = "Percentage"): number {
  const text = typeof raw === "number" ? String(raw) : typeof raw === "string" ? raw.trim().replace(/%$/, "") : "";
  if (text === "") throw badInput(`${label} is required.`);
  const m = /^(\d{1,3})(?:\.(\d{1,4}))?$/.exec(text);
  if (!m) throw badInput(`${label} must be a number from 0 to 100 with at most four decimals.`);
  const ppm = Number(m[1]) * PPM_PER_PERCENT + Number((m[2] ?? "").padEnd(4, "0") || "0");
  if (ppm > 100 * PPM_PER_PERCENT) throw badInput(`${label} cannot be more than 100.`);
  return ppm;
}

/** 13500 → "1.35"; 30000 → "3.00". */
export function formatPercent(ppm: number): string {
  const whole = Math.trunc(ppm / PPM_PER_PERCENT);
  const frac = String(ppm % PPM_PER_PERCENT)
    .padStart(4, "0")
    .replace(/0{1,2}$/, "");
  return `${whole}.${frac}`;
}

/** Like parseAmount, but a leading minus is allowed ("-12.50" → -1250n): adjustments move money either way. */
export function parseSignedAmount(raw: unknown, label = "Amount"): bigint {
  const text = typeof raw === "string" ? raw.trim() : raw;
  if (typeof text === "string" && text.startsWith("-")) return -parseAmount(text.slice(1), label);
  return parseAmount(text, label);
}
