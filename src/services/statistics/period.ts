// The statistics page's period: one of a few presets (the last 4, 13 or 52 weeks, ending today) or dates the
// person chose. Weeks run Monday to Sunday in the federation's time zone; a period's first and last weeks may be
// partial (they hold only the period's days).
import { badInput } from "../../lib/errors";
import { dateTimeFormat } from "../../lib/intl-cache";

export const PERIOD_PRESETS = { "4w": 4, "13w": 13, "52w": 52 } as const;
export type PeriodPreset = keyof typeof PERIOD_PRESETS;
export const DEFAULT_PRESET: PeriodPreset = "13w";
/** Longest custom period: five years of weekly buckets is still a readable chart and a cheap query. */
export const MAX_PERIOD_DAYS = 5 * 366;

export interface Period {
  /** First and last local calendar days, inclusive (YYYY-MM-DD). */
  from: string;
  to: string;
  /** The preset it came from; null for chosen dates. */
  preset: PeriodPreset | null;
}

const DAY_MS = 86_400_000;
const toDays = (d: string) => Date.parse(`${d}T00:00:00Z`) / DAY_MS;
const fromDays = (n: number) => new Date(n * DAY_MS).toISOString().slice(0, 10);

export function localToday(timeZone: string, now = new Date()) {
  return dateTimeFormat("en-CA", { timeZone }).format(now);
}

/** Monday of the week holding `date`. */
export function mondayOf(date: string) {
  const n = toDays(date);
  // 1970-01-01 was a Thursday: day 0 → weekday index 3 (Monday = 0).
  return fromDays(n - ((n + 3) % 7));
}

/**
 * The period the query asks for. Chosen dates win over the preset; a missing end is today, a missing start the
 * preset's start. Dates out of order, in the future or spanning too long are refused with a message.
 */
export function resolvePeriod(
  q: { period?: PeriodPreset; from?: string; to?: string },
  timeZone: string,
  now = new Date(),
): Period {
  const today = localToday(timeZone, now);
  const preset = q.period ?? DEFAULT_PRESET;
  // The preset's weeks are whole weeks back from the current (partial) one.
  const presetFrom = fromDays(toDays(mondayOf(today)) - 7 * (PERIOD_PRESETS[preset] - 1));
  if (!q.from && !q.to) return { from: presetFrom, to: today, preset };
  const to = q.to ?? today;
  const from = q.from ?? fromDays(Math.min(toDays(presetFrom), toDays(to)));
  if (from > today) throw badInput("The start date is in the future: there is nothing to show yet.");
  if (from > to) throw badInput("The start date must not be after the end date.");
  if (toDays(to) - toDays(from) + 1 > MAX_PERIOD_DAYS) {
    throw badInput(`The period is too long: choose at most ${MAX_PERIOD_DAYS} days (five years).`);
  }
  return { from, to, preset: null };
}
