// Money is integer cents (bigint) everywhere inside the app. These are the only places where text becomes cents
// or cents become text; there is no floating-point arithmetic on money anywhere.
import { badInput } from "./errors";

const AMOUNT = /^(\d{1,12})(?:\.(\d{1,2}))?$/;

/**
 * Parses a user-typed dollar amount ("12.34", "$1,000", "50") to cents. Rejects blanks, signs, exponents, more
 * than two decimals and anything that is not a plain number, with a message naming the field.
 */
export function parseAmount(raw: unknown, label = "Amount"): bigint {
  if (typeof raw !== "string" && typeof raw !== "number") throw badInput(`${label} is required.`);
  const text = String(raw)
    .trim()
    .replace(/^\$/, "")
    .replace(/,(?=\d{3}(\D|$))/g, "");
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

/** 123456n → "$1,234.56"; negative amounts as "-$5.00". */
export function formatMoney(cents: bigint | number): string {
  const s = formatAmount(cents);
  return s.startsWith("-") ? `-$${s.slice(1)}` : `$${s}`;
}
