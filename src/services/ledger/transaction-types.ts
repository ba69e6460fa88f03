// The original's transaction type vocabulary (reference §1.1). The database refuses any other value.
export const TRANSACTION_TYPES = [
  "Transfer Out",
  "Transfer In",
  "Auto Top Up",
  "Manual Top Up",
  "Club Top Up",
  "Club Top Up Rev",
  "Entry to an event",
  "CC Payment",
  "Club Payment",
  "Club Membership",
  "Member Transfer",
  "Miscellaneous",
  "Settlement",
  "Manual Adjustment",
  "Org Transfer",
  "Refund",
  "Card Refund",
  // Beyond the original's vocabulary (issue 20): Stripe's payouts and fees, card disputes and their reversal.
  "Stripe Payout",
  "Stripe Fee",
  "Card Dispute",
  "Card Dispute Reversal",
] as const;

export type TransactionType = (typeof TRANSACTION_TYPES)[number];

export function isTransactionType(v: unknown): v is TransactionType {
  return typeof v === "string" && (TRANSACTION_TYPES as readonly string[]).includes(v);
}

/** Types that bring card money into a member's balance. */
export const TOP_UP_TYPES: TransactionType[] = ["Manual Top Up", "Auto Top Up", "CC Payment"];

/**
 * The same as SQL literals, for `AND type IN (…)` beside `type = <a value>`: only a written list lets PostgreSQL
 * prove the partial index entries_top_ups_idx applies (with the types as a parameter it walked the account's whole
 * statement backwards, 20 ms for 20,000 lines).
 */
export const TOP_UP_TYPES_SQL = TOP_UP_TYPES.map((t) => `'${t}'`).join(", ");

/** Types by which members pay a club (sessions, events, memberships, the API's charges). */
export const PAYMENT_TYPES: TransactionType[] = [
  "Club Payment",
  "Entry to an event",
  "Club Membership",
  "Miscellaneous",
];
