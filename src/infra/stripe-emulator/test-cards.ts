// Stripe's published test card numbers, and what each does, as the emulator plays them.
export type CardBehaviour =
  /** Always succeeds. */
  | "succeed"
  /** Declined: insufficient funds. */
  | "decline_insufficient_funds"
  /** Needs 3-D Secure on every payment; off-session charges fail with authentication_required. */
  | "authenticate_always"
  /** Needs 3-D Secure when saved; off-session charges then succeed. */
  | "authenticate_setup"
  /** Saves fine, but every charge is declined. */
  | "attach_then_decline"
  /** The charge succeeds, then the cardholder disputes it as fraudulent (Stripe's 4000 0000 0000 0259). */
  | "dispute_fraudulent";

const SPECIAL: Record<string, CardBehaviour> = {
  "4000000000009995": "decline_insufficient_funds",
  "4000002760003184": "authenticate_always",
  "4000002500003155": "authenticate_setup",
  "4000000000000341": "attach_then_decline",
  "4000000000000259": "dispute_fraudulent",
};

export interface TestCard {
  number: string;
  brand: string;
  last4: string;
  behaviour: CardBehaviour;
}

function luhnValid(digits: string) {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

function brandOf(n: string) {
  if (n.startsWith("4")) return "visa";
  if (/^5[1-5]/.test(n) || /^2[2-7]/.test(n)) return "mastercard";
  if (/^3[47]/.test(n)) return "amex";
  return "unknown";
}

/** The card for a typed number, or null when the number is not a valid card number. */
export function testCard(raw: string): TestCard | null {
  const number = String(raw).replace(/[\s-]/g, "");
  if (!/^\d{13,19}$/.test(number) || !luhnValid(number)) return null;
  return { number, brand: brandOf(number), last4: number.slice(-4), behaviour: SPECIAL[number] ?? "succeed" };
}
