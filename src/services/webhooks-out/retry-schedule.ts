// The retry schedule, expressed as pg-boss queue options. With retryBackoff, pg-boss waits
// retryDelay × 2^r × (1 + random) seconds after the attempt with retry count r (plans.js, failJobs), so after
// `retryLimit` retries the expected span is 1.5 × retryDelay × (2^retryLimit − 1), between 1× and 2× of
// retryDelay × (2^retryLimit − 1). retryDelay is chosen so that the expected span is the wanted one.

export interface RetrySchedule {
  retryLimit: number;
  /** Seconds (pg-boss takes whole seconds, at least 1 with backoff). */
  retryDelay: number;
  retryBackoff: boolean;
}

export const THREE_DAYS_SECONDS = 3 * 24 * 60 * 60;

/** Exponential backoff whose expected total span is `spanSeconds`, over `retryLimit` retries. */
export function backoffSchedule(spanSeconds = THREE_DAYS_SECONDS, retryLimit = 12): RetrySchedule {
  const retryDelay = Math.max(1, Math.round(spanSeconds / (1.5 * (2 ** retryLimit - 1))));
  return { retryLimit, retryDelay, retryBackoff: true };
}

/** The production schedule: 13 attempts over about 3 days (first retry after 42–84 s, last about a day later). */
export const DEFAULT_SCHEDULE = backoffSchedule();

/** The earliest and latest span from the first attempt to the last, in seconds. */
export function scheduleSpan(s: RetrySchedule): { min: number; max: number } {
  if (!s.retryBackoff) return { min: s.retryDelay * s.retryLimit, max: s.retryDelay * s.retryLimit };
  const base = s.retryDelay * (2 ** s.retryLimit - 1);
  return { min: base, max: 2 * base };
}

/** The earliest moment of the next attempt after a failure of the attempt with retry count `retryCount`. */
export function earliestNextAttempt(s: RetrySchedule, retryCount: number, now = new Date()): Date {
  const wait = s.retryBackoff ? s.retryDelay * 2 ** Math.min(16, retryCount) : s.retryDelay;
  return new Date(now.getTime() + wait * 1000);
}
