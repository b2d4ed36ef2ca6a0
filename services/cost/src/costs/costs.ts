import { invalidParameter, missingParameter, notFound, permissionDenied, type PlatformError } from "@cloudforet/errors";
import { domainScope, isStorableText, tagsProblem } from "@cloudforet/query";
import { requireDomainAccess, requireWorkspaceAccess, type Caller } from "@cloudforet/runtime";
import type { DataSourceRepository } from "../data-sources/repository";
import { groupableColumns, type CostTarget, type CostValues, type GroupableColumn, type GroupKey } from "./repository";

/** Largest cost numeric(20,6) stores exactly. */
export const MAX_COST = 1e14;
/** Decimal places numeric(20,6) keeps; a cost with more is refused, never rounded. */
export const COST_SCALE = 6;
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
export type ValidCost = CostValues;

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
 * The decimal text of a cost: the double read to the 15 significant digits it carries reliably, in
 * JavaScript's shortest form, which is the decimal the client wrote (12.5 → "12.5", 0.1 → "0.1").
 * Digits past the 15th are binary noise, not precision the sender meant: a collector that adds
 * 0.1 + 0.2 sends 0.30000000000000004 and means 0.3.
 */
export const costDecimal = (cost: number): string => String(Number(cost.toPrecision(15)));

/**
 * Decimal places of the decimal a cost stands for (its shortest round-trip text): "12.5" → 1,
 * "5e-7" → 7, "1.25e-7" → 9. The column keeps COST_SCALE; storing more would round silently
 * (5e-7 became 0.000001, 1e-7 became 0), so such a cost is INVALID_ARGUMENT naming `cost`.
 * Refusing rather than widening the column keeps every stored sum exact at one scale and needs
 * no migration of the cost table or its Analyze index.
 */
export function costDecimalPlaces(cost: number): number {
  const [mantissa, exponent = "0"] = costDecimal(cost).split("e");
  const fraction = mantissa.split(".")[1]?.length ?? 0;
  return Math.max(0, fraction - Number(exponent));
}

/** Validates one row; returns the problem instead of throwing so a batch can count it. */
export function checkCost(input: CostInput): { ok: true; row: ValidCost } | { ok: false; problem: CostProblem } {
  if (!input.date) return { ok: false, problem: { parameter: "date", value: "", message: "Missing required field" } };
  if (!isCalendarDate(input.date)) return { ok: false, problem: dateProblem(input.date) };
  if (!Number.isFinite(input.cost) || input.cost < 0) {
    return { ok: false, problem: { parameter: "cost", value: Number.isFinite(input.cost) ? input.cost : String(input.cost), message: "Cost must be a positive number" } };
  }
  if (input.cost >= MAX_COST) return { ok: false, problem: { parameter: "cost", value: input.cost, message: `Cost must be less than ${MAX_COST}` } };
  if (costDecimalPlaces(input.cost) > COST_SCALE) {
    return { ok: false, problem: { parameter: "cost", value: input.cost, message: `Cost has more than ${COST_SCALE} decimal places, which is more precision than is stored` } };
  }
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

/*
 * Who may write which cost rows (runtime's role rules applied to cost): a cost row belongs to its
 * data source's workspace, or to the whole domain (workspace_id "") when it came without a source
 * or its source is domain-wide. Reads go through the shared tenant scope with domain-wide rows.
 */

/** PERMISSION_DENIED unless the caller may write rows of the workspace ("" is the whole domain). */
export function requireWrite(caller: Caller, workspaceId: string): void {
  if (workspaceId === "") requireDomainAccess(caller, "write");
  else requireWorkspaceAccess(caller, workspaceId, "write");
}

/**
 * The workspace of a cost row pushed without a data source: the whole domain for an admin, else
 * the one workspace the caller owns.
 */
export function defaultWriteWorkspace(caller: Caller): string {
  if (caller.domainAdmin) return "";
  const owned = caller.roles.filter((r) => r.role === "WORKSPACE_OWNER" && r.workspace_id).map((r) => r.workspace_id!);
  if (owned.length === 1) return owned[0];
  if (owned.length === 0) throw permissionDenied("Writing costs needs a domain admin or a workspace owner", { domain_id: caller.domainId });
  throw invalidParameter("data_source_id is required when the caller owns several workspaces", { parameter: "data_source_id" });
}

/** Where the rows of one call go: the data source's workspace, or the caller's when they come without a source. */
export async function costTarget(caller: Caller, dataSources: DataSourceRepository, dataSourceId: string, jobId: string): Promise<CostTarget> {
  if (!dataSourceId) return { domainId: caller.domainId, workspaceId: defaultWriteWorkspace(caller), dataSourceId: "", jobId };
  const source = await dataSources.get(domainScope(caller), dataSourceId);
  if (!source) throw notFound("Data source not found", { data_source_id: dataSourceId });
  requireWrite(caller, source.workspaceId);
  return { domainId: caller.domainId, workspaceId: source.workspaceId, dataSourceId, jobId };
}
