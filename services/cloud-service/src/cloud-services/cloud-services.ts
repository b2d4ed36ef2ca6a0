import type { JsonObject, JsonValue } from "@bufbuild/protobuf";
import { invalidParameter, missingParameter } from "@cloudforet/errors";
import { textProblem } from "@cloudforet/runtime";
import { validateTags } from "@cloudforet/query";
import type { ResourceReference } from "../db/schema";

/** States only the platform sets: by the disconnect sweep and by (soft) deletion. */
export const DISCONNECTED = "DISCONNECTED";
export const DELETED = "DELETED";
/** A resource whose data has no `state`. */
export const DEFAULT_STATE = "ACTIVE";

/** A finished collection that misses a resource this many times in a row deletes it. */
export const MISSES_BEFORE_DELETE = 3;

/** Paths that make up the match rule used when an upsert gives none. */
export const DEFAULT_MATCH_RULE = ["reference.resource_id", "provider", "cloud_service_type"] as const;

const LIMITS = {
  name: 255,
  group: 255,
  account: 255,
  id: 255,
  externalLink: 2048,
  state: 64,
  dataBytes: 512 * 1024,
  dataDepth: 32,
  matchRules: 10,
  matchKeys: 10,
};

const providerPattern = /^[a-z0-9][a-z0-9_-]{0,62}$/;
const typeKeyPattern = /^[A-Za-z][A-Za-z0-9_-]{0,62}\.[A-Za-z][A-Za-z0-9_-]{0,62}$/;
const statePattern = /^[A-Za-z0-9][A-Za-z0-9_ .:-]{0,63}$/;
const idPattern = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,254}$/;
const pathSegment = /^[A-Za-z0-9_-]{1,128}$/;

/** What a client sends to create or upsert a resource, free of protobuf types. */
export interface ResourceInput {
  cloudServiceType: string;
  cloudServiceGroup: string;
  cloudServiceName: string;
  provider: string;
  account: string;
  data: JsonObject;
  tags: Record<string, string>;
  reference: ResourceReference;
  projectId: string;
  workspaceId: string;
  collectorId: string;
  jobTaskId: string;
  matchRules: string[][];
  /** The collection job writing it, for the change history (pull mode: set by inventory). */
  jobId?: string;
  /** Keys collector rules set, by rule id: the change history records them as the rules' changes. */
  ruleChanges?: Record<string, string>;
  /** Whether the writer already applied the collector rules (pull mode); else cloud-service applies them to a collected item. */
  collectorRulesApplied?: boolean;
  /** The caller, for the change history (set by ResourceWriter). */
  userId?: string;
}

/** A resource input that passed validation. */
export type ValidResource = ResourceInput & { state: string };

/**
 * Checks a Create/Upsert input field by field (seed 000: a missing required field is
 * ERROR_INVALID_PARAMETER "Missing required field" naming it) and derives its state.
 */
export function validateResource(input: ResourceInput): ValidResource {
  if (!input.cloudServiceType) throw missingParameter("cloud_service_type");
  if (!input.cloudServiceName) throw missingParameter("cloud_service_name");
  if (!input.provider) throw missingParameter("provider");
  if (!typeKeyPattern.test(input.cloudServiceType)) {
    throw invalidParameter("Unknown cloud service type", { parameter: "cloud_service_type", value: input.cloudServiceType.slice(0, 128) });
  }
  if (!providerPattern.test(input.provider)) {
    throw invalidParameter("provider must be lower-case letters, digits, _ or -", { parameter: "provider", value: input.provider.slice(0, 128) });
  }
  checkText("cloud_service_name", input.cloudServiceName, LIMITS.name);
  checkText("cloud_service_group", input.cloudServiceGroup, LIMITS.group);
  checkText("account", input.account, LIMITS.account);
  checkId("project_id", input.projectId);
  checkId("workspace_id", input.workspaceId);
  checkId("collector_id", input.collectorId);
  checkId("job_task_id", input.jobTaskId);
  checkText("reference.resource_id", input.reference.resource_id, LIMITS.id);
  checkText("reference.external_link", input.reference.external_link, LIMITS.externalLink);
  validateData(input.data, "data");
  validateTags(input.tags);
  const matchRules = validateMatchRules(input.matchRules);
  return { ...input, matchRules, state: stateFromData(input.data) };
}

/** `data.state` as a string when present, else ACTIVE; the platform's own states are refused. */
export function stateFromData(data: JsonObject): string {
  const value = data.state;
  if (value === undefined || value === null || value === "") return DEFAULT_STATE;
  if (typeof value === "object") throw invalidParameter("data.state must be a string", { parameter: "data.state" });
  return validateState(String(value), "data.state");
}

/** A state set by hand or reported in data: short, printable, and not one the platform reserves. */
export function validateState(state: string, parameter = "state"): string {
  if (!statePattern.test(state)) throw invalidParameter("Unknown state value", { parameter, value: state.slice(0, 128) });
  if (state === DISCONNECTED || state === DELETED) {
    throw invalidParameter(`${state} is set by the platform, not by clients`, { parameter, value: state });
  }
  return state;
}

/** Free-form data: JSON with finite numbers, bounded in size and depth. */
export function validateData(data: JsonObject, parameter: string): JsonObject {
  walk(data, parameter, 0);
  const bytes = Buffer.byteLength(JSON.stringify(data));
  if (bytes > LIMITS.dataBytes) throw invalidParameter(`${parameter} is larger than ${LIMITS.dataBytes} bytes`, { parameter });
  return data;
}

function walk(value: JsonValue, parameter: string, depth: number): void {
  if (depth > LIMITS.dataDepth) throw invalidParameter(`${parameter} is nested too deeply`, { parameter });
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw invalidParameter(`${parameter} holds a number that is not finite`, { parameter });
  } else if (typeof value === "string") {
    // Checked here, not only at the door: rows of BatchUpsert are refused one by one.
    const problem = textProblem(value);
    if (problem) throw invalidParameter(`${parameter} ${problem}`, { parameter });
  } else if (Array.isArray(value)) {
    for (const item of value) walk(item, parameter, depth + 1);
  } else if (value !== null && typeof value === "object") {
    for (const [key, item] of Object.entries(value)) {
      const problem = textProblem(key);
      if (problem) throw invalidParameter(`${parameter} has a key that ${problem}`, { parameter });
      walk(item as JsonValue, parameter, depth + 1);
    }
  }
}

/**
 * Match rules are lists of resource paths; empty means the default rule. A path is a column
 * (`provider`, `account`...) or a dotted path into data, tags or reference.
 */
export function validateMatchRules(rules: string[][]): string[][] {
  if (rules.length === 0) return [[...DEFAULT_MATCH_RULE]];
  if (rules.length > LIMITS.matchRules) throw invalidParameter(`at most ${LIMITS.matchRules} match rules`, { parameter: "match_rules" });
  return rules.map((keys, i) => {
    if (keys.length === 0 || keys.length > LIMITS.matchKeys) {
      throw invalidParameter(`a match rule has 1 to ${LIMITS.matchKeys} keys`, { parameter: `match_rules[${i}]` });
    }
    for (const key of keys) parseMatchKey(key, `match_rules[${i}]`);
    return keys;
  });
}

/** The columns a match rule may name directly. */
export const MATCH_COLUMNS = [
  "cloud_service_id",
  "name",
  "cloud_service_name",
  "cloud_service_type",
  "cloud_service_group",
  "provider",
  "account",
  "project_id",
  "workspace_id",
  "collector_id",
] as const;
export type MatchColumn = (typeof MATCH_COLUMNS)[number];

export type MatchKey = { kind: "column"; column: MatchColumn } | { kind: "json"; field: "data" | "tags" | "reference"; path: string[] };

export function parseMatchKey(key: string, parameter: string): MatchKey {
  if ((MATCH_COLUMNS as readonly string[]).includes(key)) return { kind: "column", column: key as MatchColumn };
  const [field, ...path] = key.split(".");
  if ((field === "data" || field === "tags" || field === "reference") && path.length > 0 && path.length <= 8 && path.every((s) => pathSegment.test(s))) {
    return { kind: "json", field, path };
  }
  throw invalidParameter("Unknown match rule key", { parameter, value: key.slice(0, 128) });
}

/**
 * The value an item has at a match key, or undefined when it has none (a rule with a key the
 * item lacks cannot select anything and is skipped).
 */
export function matchValue(item: ValidResource, key: MatchKey): JsonValue | undefined {
  if (key.kind === "column") {
    const value = columnValue(item, key.column);
    return value === "" ? undefined : value;
  }
  let value: JsonValue | undefined = key.field === "data" ? item.data : key.field === "tags" ? item.tags : (item.reference as unknown as JsonObject);
  for (const segment of key.path) {
    if (value === null || typeof value !== "object" || Array.isArray(value)) return undefined;
    value = (value as JsonObject)[segment];
  }
  return value === "" || value === null ? undefined : value;
}

function columnValue(item: ValidResource, column: MatchColumn): string {
  switch (column) {
    case "cloud_service_id":
      return "";
    case "name":
    case "cloud_service_name":
      return item.cloudServiceName;
    case "cloud_service_type":
      return item.cloudServiceType;
    case "cloud_service_group":
      return item.cloudServiceGroup;
    case "provider":
      return item.provider;
    case "account":
      return item.account;
    case "project_id":
      return item.projectId;
    case "workspace_id":
      return item.workspaceId;
    case "collector_id":
      return item.collectorId;
  }
}

/** True for the rule collectors nearly always use, which has a fast path. */
export function isDefaultRule(rules: string[][]): boolean {
  return rules.length === 1 && rules[0].length === 3 && DEFAULT_MATCH_RULE.every((key, i) => rules[0][i] === key);
}

/**
 * Update's `data`: top-level keys are set, a key whose value is null is removed, other keys are
 * kept. Returns a new object.
 */
export function mergeData(current: JsonObject, patch: JsonObject): JsonObject {
  const merged: JsonObject = { ...current };
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete merged[key];
    else Object.defineProperty(merged, key, { value, enumerable: true, writable: true, configurable: true });
  }
  return merged;
}

function checkText(parameter: string, value: string, max: number): void {
  if (value.length > max) throw invalidParameter(`${parameter} is longer than ${max} characters`, { parameter });
  const problem = textProblem(value);
  if (problem) throw invalidParameter(`${parameter} ${problem}`, { parameter });
}

/** Ids are optional; when given they are short and printable. */
export function checkId(parameter: string, value: string): void {
  if (value && !idPattern.test(value)) throw invalidParameter(`${parameter} is not a valid id`, { parameter, value: value.slice(0, 128) });
}
