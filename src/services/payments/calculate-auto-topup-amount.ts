// How much an automatic top-up takes when a payment of A finds a balance of B < A (reference §3.3.3), with the
// member's chosen auto top-up amount U and the low-balance threshold L = $20, all in cents:
//   B < L:  T = max(U, A)… precisely U if U ≥ A else A; and if that still leaves B + T − A < L, take enough
//           whole multiples of U to clear the threshold: T = U × (floor((A − B + L) / U) + 1).
//   B ≥ L:  T = U if U ≥ A, else A.
// The original's quirks are kept on purpose (members see these amounts): one extra multiple when A − B + L is an
// exact multiple of U, and no threshold re-check when B ≥ L.

export const LOW_BALANCE_THRESHOLD_CENTS = 2_000n;

export function calculateAutoTopupAmount(autoAmountCents: bigint, amountCents: bigint, balanceCents: bigint): bigint {
  if (autoAmountCents <= 0n) throw new RangeError("auto top-up amount must be positive");
  const L = LOW_BALANCE_THRESHOLD_CENTS;
  const U = autoAmountCents;
  const A = amountCents;
  const B = balanceCents;
  // biome-ignore lint/complexity/useMathMinMax: Math.max does not take bigints
  let T = U >= A ? U : A;
  if (B < L && B + T - A < L) {
    const needed = A - B + L; // positive: A > B here
    T = U * (needed / U + 1n); // bigint division floors for positive operands
  }
  return T;
}
