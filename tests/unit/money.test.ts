import { AppError } from "../../src/lib/errors";
import { formatAmount, formatMoney, parseAmount } from "../../src/lib/money";

describe("parseAmount", () => {
  test.each([
    ["12.34", 1234n],
    ["12.3", 1230n],
    ["12", 1200n],
    ["0.01", 1n],
    ["$50", 5000n],
    ["1,000.00", 100000n],
    [" 7.5 ", 750n],
    ["0", 0n],
  ])("%s → %s cents", (text, cents) => {
    expect(parseAmount(text)).toBe(cents);
  });

  test.each([
    ["", "is required"],
    ["   ", "is required"],
    ["1.234", "at most two decimal places"],
    ["1e3", "dollars and cents"],
    ["-5", "cannot be negative"],
    ["abc", "dollars and cents"],
    ["1.2.3", "dollars and cents"],
    ["NaN", "dollars and cents"],
    ["Infinity", "dollars and cents"],
    ["0x10", "dollars and cents"],
  ])("rejects %j (%s)", (text, message) => {
    expect(() => parseAmount(text)).toThrow(AppError);
    expect(() => parseAmount(text)).toThrow(message);
  });
});

describe("formatting", () => {
  test.each([
    [0n, "0.00", "$0.00"],
    [5n, "0.05", "$0.05"],
    [-5n, "-0.05", "-$0.05"],
    [123456n, "1,234.56", "$1,234.56"],
    [100000000n, "1,000,000.00", "$1,000,000.00"],
  ])("%s", (cents, plain, money) => {
    expect(formatAmount(cents)).toBe(plain);
    expect(formatMoney(cents)).toBe(money);
  });
});
