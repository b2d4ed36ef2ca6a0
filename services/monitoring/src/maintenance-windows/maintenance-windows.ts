import { invalidParameter } from "@cloudforet/errors";
import type { LabelMatcher, MaintenanceWindowRow, Recurrence } from "../db/schema";
import { requiredText } from "../alerts/alert-fields";

export const MAX_MATCHERS = 20;
const PERIOD_MS: Record<Recurrence, number> = { ONCE: 0, DAILY: 86_400_000, WEEKLY: 7 * 86_400_000 };

/** Checks a window's matchers (ERROR_INVALID_PARAMETER naming `matchers[i]…`). */
export function validateMatchers(matchers: readonly LabelMatcher[]): LabelMatcher[] {
  if (matchers.length === 0 || matchers.length > MAX_MATCHERS) throw invalidParameter("matchers must hold 1 to 20 matchers", { parameter: "matchers", value: matchers.length });
  return matchers.map((m, i) => {
    const name = requiredText(m.name, `matchers[${i}].name`, 128);
    const value = m.value.length > 1024 ? requiredText("", `matchers[${i}].value`) : m.value;
    if (m.operator === "REGEX") regexOrThrow(value, `matchers[${i}].value`);
    return { name, value, operator: m.operator };
  });
}

function regexOrThrow(pattern: string, parameter: string): void {
  try {
    new RegExp(`^(?:${pattern})$`, "u");
  } catch {
    throw invalidParameter("Not a valid regular expression", { parameter, value: pattern.slice(0, 128) });
  }
}

/** Checks the time range of a window (epoch milliseconds). */
export function validateRange(startsAt: number, endsAt: number, recurrence: Recurrence, repeatUntil: number | undefined): void {
  if (!Number.isFinite(startsAt)) throw invalidParameter("starts_at is not a valid instant", { parameter: "starts_at" });
  if (!Number.isFinite(endsAt) || endsAt <= startsAt) throw invalidParameter("ends_at must be after starts_at", { parameter: "ends_at" });
  const period = PERIOD_MS[recurrence];
  if (period && endsAt - startsAt > period) throw invalidParameter(`a ${recurrence} window lasts at most one period`, { parameter: "ends_at" });
  if (repeatUntil !== undefined && (!Number.isFinite(repeatUntil) || repeatUntil < endsAt)) {
    throw invalidParameter("repeat_until must be after ends_at", { parameter: "repeat_until" });
  }
}

/** Whether every matcher holds for these labels (a missing label reads as ""). */
export function matchesLabels(matchers: readonly LabelMatcher[], labels: Record<string, string>): boolean {
  return matchers.every((m) => {
    const actual = labels[m.name] ?? "";
    if (m.operator === "EQ") return actual === m.value;
    if (m.operator === "NE") return actual !== m.value;
    try {
      return new RegExp(`^(?:${m.value})$`, "u").test(actual);
    } catch {
      return false;
    }
  });
}

type WindowTimes = Pick<MaintenanceWindowRow, "startsAt" | "endsAt" | "recurrence" | "repeatUntil">;

/**
 * The occurrence of a window around `now`: active until `until`, or the next start (`next`), or
 * neither once it has expired.
 */
export function occurrence(window: WindowTimes, now: number): { active: true; until: number } | { active: false; next?: number } {
  const start = window.startsAt.getTime();
  const length = window.endsAt.getTime() - start;
  const period = PERIOD_MS[window.recurrence];
  const last = window.repeatUntil?.getTime() ?? Number.POSITIVE_INFINITY;
  if (now < start) return { active: false, next: start };
  if (!period) return now < start + length ? { active: true, until: start + length } : { active: false };
  const n = Math.floor((now - start) / period);
  const from = start + n * period;
  if (from > last) return { active: false };
  if (now < from + length) return { active: true, until: from + length };
  const next = from + period;
  return next > last ? { active: false } : { active: false, next };
}

/** SCHEDULED, ACTIVE or EXPIRED at `now`. */
export function windowState(window: WindowTimes, now: number): "SCHEDULED" | "ACTIVE" | "EXPIRED" {
  const at = occurrence(window, now);
  if (at.active) return "ACTIVE";
  return at.next === undefined ? "EXPIRED" : "SCHEDULED";
}
