import Decimal from "decimal.js";
import { invalidParameter, missingParameter } from "@cloudforet/errors";
import { isStorableText, validateTags } from "@cloudforet/query";
import { costDecimal, costDecimalPlaces, COST_SCALE, MAX_COST } from "../costs/costs";
import type { StoredThreshold } from "../db/schema";

/** Thresholds per budget. */
export const MAX_THRESHOLDS = 10;
/** Planned limits per budget (ten years of months). */
export const MAX_PLANNED_LIMITS = 120;

export type TimeUnit = "MONTHLY" | "YEARLY";

const monthPattern = /^(\d{4})-(0[1-9]|1[0-2])$/;
const yearPattern = /^\d{4}$/;
const currencyPattern = /^[A-Za-z]{3}$/;
const idPattern = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/;

/** A threshold as a client sends it (proto enums already read as names). */
export interface ThresholdInput {
  value: number;
  unit: StoredThreshold["unit"];
  severity: StoredThreshold["severity"];
}

/** The identity of a threshold within a period's notices: "PERCENT:80", "ACTUAL_COST:1000.5". */
export const thresholdKey = (t: Pick<StoredThreshold, "unit" | "value">) => `${t.unit}:${new Decimal(t.value).toString()}`;

/** An amount (limit, threshold) sent as a double, as the exact decimal text it stands for. */
export function amountOf(value: number, parameter: string): string {
  if (!Number.isFinite(value) || value < 0 || value > MAX_COST) {
    throw invalidParameter(`${parameter} must be a finite number from 0 to 1e14`, { parameter, value: String(value) });
  }
  if (costDecimalPlaces(value) > COST_SCALE) throw invalidParameter(`${parameter} has more than ${COST_SCALE} decimal places`, { parameter, value: String(value) });
  return costDecimal(value);
}

export function checkName(name: string): string {
  const trimmed = name.trim();
  if (!trimmed) throw missingParameter("name");
  if (trimmed.length > 255 || !isStorableText(trimmed)) throw invalidParameter("name must be 1-255 characters of valid text", { parameter: "name" });
  return trimmed;
}

export function checkCurrency(currency: string): string {
  if (!currency) return "USD";
  if (!currencyPattern.test(currency)) throw invalidParameter("currency must be a three-letter ISO 4217 code", { parameter: "currency", value: currency });
  return currency.toUpperCase();
}

/** An optional id (workspace, project, data source): "" or an id-shaped string. */
export function checkOptionalId(value: string, parameter: string): string {
  if (value && !idPattern.test(value)) throw invalidParameter(`${parameter} is not a valid id`, { parameter, value });
  return value;
}

export function checkTagFilter(filter: Record<string, string>): Record<string, string> {
  return validateTags(filter, "tag_filter");
}

/** "YYYY-MM" for monthly budgets, "YYYY" for yearly ones. */
export function checkPeriod(period: string, unit: TimeUnit, parameter: string): string {
  const ok = unit === "MONTHLY" ? monthPattern.test(period) : yearPattern.test(period);
  if (!ok) throw invalidParameter(`${parameter} must be ${unit === "MONTHLY" ? "YYYY-MM" : "YYYY"} for a ${unit} budget`, { parameter, value: period });
  return period;
}

export function checkPlannedLimits(limits: { period: string; limit: number }[], unit: TimeUnit): Record<string, string> {
  if (limits.length > MAX_PLANNED_LIMITS) throw invalidParameter(`at most ${MAX_PLANNED_LIMITS} planned limits`, { parameter: "planned_limits" });
  const out: Record<string, string> = {};
  limits.forEach((entry, index) => {
    const period = checkPeriod(entry.period, unit, `planned_limits[${index}].period`);
    if (period in out) throw invalidParameter("a period is planned twice", { parameter: `planned_limits[${index}].period`, value: period });
    out[period] = amountOf(entry.limit, `planned_limits[${index}].limit`);
  });
  return out;
}

export function checkThresholds(thresholds: ThresholdInput[]): StoredThreshold[] {
  if (thresholds.length > MAX_THRESHOLDS) throw invalidParameter(`at most ${MAX_THRESHOLDS} thresholds`, { parameter: "thresholds" });
  const seen = new Set<string>();
  return thresholds.map((t, index) => {
    const value = amountOf(t.value, `thresholds[${index}].value`);
    if (new Decimal(value).lte(0)) throw invalidParameter("a threshold must be above 0", { parameter: `thresholds[${index}].value`, value: t.value });
    if (t.unit === "PERCENT" && new Decimal(value).gt(1000)) throw invalidParameter("a percent threshold is at most 1000", { parameter: `thresholds[${index}].value`, value: t.value });
    const stored: StoredThreshold = { value, unit: t.unit, severity: t.severity };
    const key = thresholdKey(stored);
    if (seen.has(key)) throw invalidParameter("a threshold is given twice", { parameter: `thresholds[${index}]`, value: key });
    seen.add(key);
    return stored;
  });
}

/** The period containing `at`: "2024-01" or "2024" (UTC). */
export function periodOf(at: Date, unit: TimeUnit): string {
  const month = at.toISOString().slice(0, 7);
  return unit === "MONTHLY" ? month : month.slice(0, 4);
}

/** The limit of one period: its planned limit, else the budget's fixed one. */
export function limitFor(budget: { limitAmount: string; plannedLimits: Record<string, string> }, period: string): Decimal {
  return new Decimal(budget.plannedLimits[period] ?? budget.limitAmount);
}

/** The amount at which a threshold is reached in a period with `limit`. */
export function thresholdAmount(threshold: StoredThreshold, limit: Decimal): Decimal {
  return threshold.unit === "PERCENT" ? limit.mul(threshold.value).div(100) : new Decimal(threshold.value);
}

/** Thresholds the usage has reached (never those of a zero limit by percent: nothing was planned). */
export function reachedThresholds(thresholds: StoredThreshold[], usage: Decimal, limit: Decimal): StoredThreshold[] {
  return thresholds.filter((t) => !(t.unit === "PERCENT" && limit.isZero()) && usage.gte(thresholdAmount(t, limit)));
}

/** Days of a period, and how many of them have begun by `now` (all for a past period, 0 for a future one). */
export function periodDays(period: string, now: Date): { total: number; elapsed: number } {
  const year = Number(period.slice(0, 4));
  const start = Date.UTC(year, period.length === 7 ? Number(period.slice(5, 7)) - 1 : 0, 1);
  const end = period.length === 7 ? Date.UTC(year, Number(period.slice(5, 7)), 1) : Date.UTC(year + 1, 0, 1);
  const day = 86_400_000;
  const total = Math.round((end - start) / day);
  const elapsed = now.getTime() >= end ? total : now.getTime() < start ? 0 : Math.floor((now.getTime() - start) / day) + 1;
  return { total, elapsed };
}

/**
 * Usage at the period's end at the current run rate: usage / elapsed days × days of the period.
 * A finished period's forecast is its usage; one not begun forecasts its usage (nothing to extrapolate).
 */
export function forecast(usage: Decimal, days: { total: number; elapsed: number }): Decimal {
  if (days.elapsed === 0 || days.elapsed >= days.total) return usage;
  return usage.div(days.elapsed).mul(days.total).toDecimalPlaces(COST_SCALE);
}

/** usage / limit × 100, two decimals; 0 for a zero limit. */
export function percentOf(amount: Decimal, limit: Decimal): Decimal {
  return limit.isZero() ? new Decimal(0) : amount.div(limit).mul(100).toDecimalPlaces(2);
}
