import type { RetryPolicy, StepDelay } from "../definitions/blocks";
import { parseDuration } from "../definitions/durations";

const DAY_MS = 86_400_000;

/** The weekday (0 = Sunday) of an instant in an IANA time zone. */
export function weekdayIn(at: Date, timeZone: string): number {
  const name = new Intl.DateTimeFormat("en-US", { timeZone, weekday: "short" }).format(at);
  return ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"].indexOf(name);
}

const isWeekend = (at: Date, timeZone: string) => {
  const day = weekdayIn(at, timeZone);
  return day === 0 || day === 6;
};

/** The calendar date (YYYY-MM-DD) of an instant in an IANA time zone. */
const dateIn = (at: Date, timeZone: string) => new Intl.DateTimeFormat("en-CA", { timeZone, year: "numeric", month: "2-digit", day: "2-digit" }).format(at);

/**
 * When a step's delay ends. With `business_days_only`, whole days count business days only
 * (Friday + "1d" is Monday) and an end that falls on a Saturday or Sunday in the instance's time zone
 * moves to Monday at the same time; the dates of `holidays` (YYYY-MM-DD, the engine's holiday-aware
 * delays) are skipped like weekends. `jitter` adds a random 0…jitter.
 */
export function delayEnd(from: Date, delay: StepDelay, timeZone: string, random: () => number = Math.random): Date {
  const duration = parseDuration(delay.duration) ?? 0;
  const jitter = delay.jitter ? Math.floor(random() * ((parseDuration(delay.jitter) ?? 0) + 1)) : 0;
  if (!delay.business_days_only) return new Date(from.getTime() + duration + jitter);
  const holidays = new Set(delay.holidays ?? []);
  const dayOff = (at: number) => isWeekend(new Date(at), timeZone) || (holidays.size > 0 && holidays.has(dateIn(new Date(at), timeZone)));
  let at = from.getTime();
  for (let days = Math.floor(duration / DAY_MS); days > 0; ) {
    at += DAY_MS;
    if (!dayOff(at)) days--;
  }
  at += (duration % DAY_MS) + jitter;
  while (dayOff(at)) at += DAY_MS;
  return new Date(at);
}

/** How many attempts a step gets: 1 without a retry policy, `max_attempts` (default 3) with one. */
export function maxAttempts(retry: RetryPolicy | undefined): number {
  return retry ? (retry.max_attempts ?? 3) : 1;
}

/**
 * The wait before retry number `retryIndex` (0 for the first retry): initial_backoff (default 1s)
 * × backoff_multiplier (default 2) ^ retryIndex, at most max_backoff (default 60s).
 */
export function backoffMs(retry: RetryPolicy | undefined, retryIndex: number): number {
  const initial = parseDuration(retry?.initial_backoff ?? "1s") ?? 1_000;
  const max = parseDuration(retry?.max_backoff ?? "60s") ?? 60_000;
  const multiplier = retry?.backoff_multiplier ?? 2;
  return Math.min(max, Math.round(initial * multiplier ** retryIndex));
}
