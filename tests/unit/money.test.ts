import { AppError } from "../../src/lib/errors";
import { formatAmount, formatMoney, formatPercent, parseAmount, parsePercent, percentOf } from "../../src/lib/money";

describe("parseAmount", () => {
  test.each([
    ["12.34", 1234n],
    ["12.3", 1230n],
    ["12", 1200n],
    ["0.01", 1n],
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
    ["$50", "dollars and cents"],
    ["1,000.00", "dollars and cents"],
    ["+5", "dollars and cents"],
    [".5", "dollars and cents"],
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

describe("percentOf: half away from zero to the cent", () => {
  test.each([
    [10000n, 30000, 300n], // 3 % of $100
    [50n, 30000, 2n], // 1.5 c → 2 c
    [-50n, 30000, -2n], // −1.5 c → −2 c
    [49n, 30000, 1n], // 1.47 c → 1 c
    [15015n, 13500, 203n], // 1.35 % of $150.15 = 202.7025 c
    [1n, 500000, 1n], // 0.5 c → 1 c
    [-1n, 500000, -1n],
    [0n, 30000, 0n],
  ])("%s × %s ppm = %s", (cents, ppm, expected) => {
    expect(percentOf(cents, ppm)).toBe(expected);
  });
});

describe("parsePercent / formatPercent", () => {
  test.each([
    ["3", 30000, "3.00"],
    ["2.5", 25000, "2.50"],
    ["1.35", 13500, "1.35"],
    ["0.0125", 125, "0.0125"],
    ["100", 1000000, "100.00"],
    ["3%", 30000, "3.00"],
  ])("%s → %s ppm → %s", (text, ppm, shown) => {
    expect(parsePercent(text)).toBe(ppm);
    expect(formatPercent(ppm)).toBe(shown);
  });
  test.each([
    ["", "required"],
    ["-1", "from 0 to 100"],
    ["1.23456", "at most four decimals"],
    ["101", "more than 100"],
    ["abc", "from 0 to 100"],
  ])("rejects %j", (text, message) => {
    expect(() => parsePercent(text)).toThrow(message);
  });
});
