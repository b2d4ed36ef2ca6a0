import { invalidParameter, missingParameter, type PlatformError } from "@cloudforet/errors";
import { isStorableText } from "../storable-text";
import { tagsProblem } from "../tags";

/** Largest cost numeric(20,6) stores exactly. */
export const MAX_COST = 1e14;
/** Rows per BatchCreate (proto: 1 to 10,000). */
export const MAX_BATCH_ROWS = 10_000;

/** One cost row as a client sends it (Create, or one item of BatchCreate). */
export interface CostInput {
  date: string;
  cost: number;
  currency: string;
  resourceId: string;
  resourceType: string;
  region: string;
  tags: Record<string, string>;
}

/** A row that passed validation: the cost is the decimal text Postgres stores exactly. */
export interface ValidCost {
  date: string;
  cost: string;
  currency: string;
  resourceId: string;
  resourceType: string;
  region: string;
  tags: Record<string, string>;
}

/** Why a row was refused: the field, the value as sent, and the message single Create gives. */
export interface CostProblem {
  parameter: string;
  value?: string | number;
  message: string;
}

const datePattern = /^(\d{4})-(\d{2})-(\d{2})$/;
const currencyPattern = /^[A-Za-z]{3}$/;

/** "YYYY-MM-DD" naming a real calendar day (2024-02-30 is not one). */
export function isCalendarDate(value: string): boolean {
  const match = datePattern.exec(value);
  if (!match) return false;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day); // Date.UTC would read years 0-99 as 1900-1999
  return year >= 1 && date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}

export const dateProblem = (value: string, parameter = "date"): CostProblem => ({
  parameter,
  value,
  message: "Date must be in YYYY-MM-DD format",
});

/**
 * The decimal text of a cost: JavaScript's shortest round-trip form of the double, which is the
 * decimal the client wrote (12.5 → "12.5", 0.1 → "0.1"); numeric(20,6) keeps it exactly.
 */
export const costDecimal = (cost: number): string => String(cost);

/** Validates one row; returns the problem instead of throwing so a batch can count it. */
export function checkCost(input: CostInput): { ok: true; row: ValidCost } | { ok: false; problem: CostProblem } {
  if (!input.date) return { ok: false, problem: { parameter: "date", value: "", message: "Missing required field" } };
  if (!isCalendarDate(input.date)) return { ok: false, problem: dateProblem(input.date) };
  if (!Number.isFinite(input.cost) || input.cost < 0) {
    return { ok: false, problem: { parameter: "cost", value: Number.isFinite(input.cost) ? input.cost : String(input.cost), message: "Cost must be a positive number" } };
  }
  if (input.cost >= MAX_COST) return { ok: false, problem: { parameter: "cost", value: input.cost, message: `Cost must be less than ${MAX_COST}` } };
  const currency = input.currency || "USD";
  if (!currencyPattern.test(currency)) return { ok: false, problem: { parameter: "currency", value: input.currency, message: "Currency must be a three-letter ISO 4217 code" } };
  if (!input.resourceId) return { ok: false, problem: { parameter: "resource_id", value: "", message: "Missing required field" } };
  for (const [parameter, value] of [
    ["resource_id", input.resourceId],
    ["resource_type", input.resourceType],
    ["region", input.region],
  ] as const) {
    if (value.length > 255) return { ok: false, problem: { parameter, message: `${parameter} must be at most 255 characters` } };
    if (!isStorableText(value)) return { ok: false, problem: { parameter, message: `${parameter} must be valid text without NUL characters` } };
  }
  const tags = tagsProblem(input.tags);
  if (tags) return { ok: false, problem: tags };
  return {
    ok: true,
    row: {
      date: input.date,
      cost: costDecimal(input.cost),
      currency: currency.toUpperCase(),
      resourceId: input.resourceId,
      resourceType: input.resourceType,
      region: input.region,
      tags: input.tags,
    },
  };
}

/** The problem as the error single Create answers with. */
export function problemError(problem: CostProblem): PlatformError {
  if (problem.message === "Missing required field") return missingParameter(problem.parameter);
  return invalidParameter(problem.message, { parameter: problem.parameter, value: problem.value });
}

/** Analyze's period: how many leading characters of "YYYY-MM-DD" name it. */
export const periodLength = { DAILY: 10, MONTHLY: 7, YEARLY: 4 } as const;
export type Granularity = keyof typeof periodLength;

/** Columns Analyze may group by besides tags.<key>. */
export const groupableColumns = ["data_source_id", "resource_id", "resource_type", "region"] as const;
export type GroupableColumn = (typeof groupableColumns)[number];

export type GroupKey = { key: string; column: GroupableColumn } | { key: string; tag: string };

/** Validates group_by: known columns or tags.<key>, no repeats, at most 10. */
export function parseGroupBy(keys: readonly string[]): GroupKey[] {
  if (keys.length > 10) throw invalidParameter("At most 10 group_by keys", { parameter: "group_by" });
  const seen = new Set<string>();
  return keys.map((key, index) => {
    const parameter = `group_by[${index}]`;
    if (seen.has(key)) throw invalidParameter("group_by repeats a key", { parameter, value: key });
    seen.add(key);
    if ((groupableColumns as readonly string[]).includes(key)) return { key, column: key as GroupableColumn };
    const tag = key.startsWith("tags.") ? key.slice("tags.".length) : "";
    if (tag && /^[\w.:/-]{1,128}$/.test(tag)) return { key, tag };
    throw invalidParameter(`Unknown group_by key; use ${groupableColumns.join(", ")} or tags.<key>`, { parameter, value: key });
  });
}
