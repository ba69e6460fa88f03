// Every worked example of reference §3.3.3 (U, A, B → T, final balance), in cents.
import { parseAmount } from "../../src/lib/money";
import { calculateAutoTopupAmount } from "../../src/services/payments/calculate-auto-topup-amount";

const $ = (d: string) => (d.startsWith("-") ? -parseAmount(d.slice(1)) : parseAmount(d));

describe("calculateAutoTopupAmount (§3.3.3)", () => {
  test.each([
    ["100", "30", "10", "100", "80"],
    ["100", "95", "10", "200", "115"],
    ["50", "300", "5", "350", "55"],
    ["50", "300", "25", "300", "25"],
    ["100", "40", "30", "100", "90"],
    ["100", "80", "0", "100", "20"],
    ["100", "100", "0", "200", "100"],
    ["100", "180", "0", "300", "120"],
    ["50", "60", "19.99", "100", "59.99"],
    ["200", "35", "-10", "200", "155"],
    ["100", "1000", "415.55", "1000", "415.55"],
    ["100", "150.15", "30", "150.15", "30"],
  ])("U=%s A=%s B=%s → T=%s, final %s", (u, a, b, t, final) => {
    const T = calculateAutoTopupAmount($(u), $(a), $(b));
    expect(T).toBe($(t));
    expect($(b) + T - $(a)).toBe($(final));
  });

  test("refuses a zero auto amount rather than dividing by zero", () => {
    expect(() => calculateAutoTopupAmount(0n, 100n, 0n)).toThrow(RangeError);
  });
});
