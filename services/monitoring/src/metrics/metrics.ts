import { timestampDate, type Timestamp } from "@bufbuild/protobuf/wkt";
import { invalidParameter, missingParameter, permissionDenied, type PlatformError } from "@cloudforet/errors";
import { isStorableText } from "@cloudforet/query";
import { requireWorkspaceAccess, type Caller } from "@cloudforet/runtime";

/** Items per PushBatch and samples per Ingest message (proto: at most 10,000). */
export const MAX_BATCH_ITEMS = 10_000;
/** How far ahead of the server's clock a sample may be. */
export const MAX_FUTURE_MS = 5 * 60_000;
/** GetData: series per call and buckets per series. */
export const MAX_RESOURCES = 100;
export const MAX_BUCKETS = 10_000;

const metricNamePattern = /^[A-Za-z_][A-Za-z0-9_.:/-]*$/;
const dimensionKeyPattern = /^[\w.:/-]{1,128}$/;

/** A sample as any write RPC receives it. */
export interface SampleInput {
  resourceId: string;
  metricName: string;
  value: number;
  unit: string;
  timestamp?: Timestamp;
  dimensions: Record<string, string>;
}

/** A sample that passed validation. */
export interface ValidSample {
  resourceId: string;
  metricName: string;
  value: number;
  unit: string;
  /** Milliseconds since the epoch. */
  at: number;
  dimensions: Record<string, string>;
}

/** Why a sample was refused. */
export interface SampleProblem {
  parameter: string;
  message: string;
  value?: string | number;
}

/** The window a sample's time must fall in: not before the retention cutoff, not past now + 5 min. */
export interface TimeWindow {
  now: number;
  oldest: number;
  retentionDays: number;
}

export function metricNameProblem(name: string, parameter = "metric_name"): SampleProblem | undefined {
  if (!name) return { parameter, message: "Missing required field" };
  if (name.length > 255 || !metricNamePattern.test(name)) {
    return { parameter, value: name, message: "metric_name must be 1-255 characters: a letter or _, then letters, digits or _ . : / -" };
  }
  return undefined;
}

/** A Timestamp as epoch milliseconds, or a problem when it is malformed or outside the window. */
export function instantOf(timestamp: Timestamp | undefined, window: TimeWindow, parameter = "timestamp"): number | SampleProblem {
  if (!timestamp) return window.now;
  const seconds = Number(timestamp.seconds);
  const nanos = timestamp.nanos;
  const at = seconds * 1000 + Math.floor(nanos / 1_000_000);
  if (!Number.isSafeInteger(seconds) || !Number.isInteger(nanos) || nanos < 0 || nanos > 999_999_999 || !Number.isFinite(new Date(at).getTime())) {
    return { parameter, value: String(timestamp.seconds), message: "timestamp is not a valid instant" };
  }
  if (at < window.oldest) {
    return { parameter, value: new Date(at).toISOString(), message: `timestamp is older than the retention window (${window.retentionDays} days)` };
  }
  if (at > window.now + MAX_FUTURE_MS) {
    return { parameter, value: new Date(at).toISOString(), message: "timestamp is more than 5 minutes in the future" };
  }
  return at;
}

/** Validates one sample; returns the problem instead of throwing so batches can count it. */
export function checkSample(input: SampleInput, window: TimeWindow): { ok: true; sample: ValidSample } | { ok: false; problem: SampleProblem } {
  if (!input.resourceId) return { ok: false, problem: { parameter: "resource_id", message: "Missing required field" } };
  if (input.resourceId.length > 255 || !isStorableText(input.resourceId)) {
    return { ok: false, problem: { parameter: "resource_id", message: "resource_id must be at most 255 characters of valid text without NUL" } };
  }
  const nameProblem = metricNameProblem(input.metricName);
  if (nameProblem) return { ok: false, problem: nameProblem };
  if (!Number.isFinite(input.value)) return { ok: false, problem: { parameter: "value", value: String(input.value), message: "value must be a finite number" } };
  if (input.unit.length > 64 || !isStorableText(input.unit)) {
    return { ok: false, problem: { parameter: "unit", message: "unit must be at most 64 characters of valid text without NUL" } };
  }
  const dimensions = Object.entries(input.dimensions);
  if (dimensions.length > 50) return { ok: false, problem: { parameter: "dimensions", message: "at most 50 dimensions" } };
  for (const [key, value] of dimensions) {
    if (!dimensionKeyPattern.test(key)) return { ok: false, problem: { parameter: "dimensions", value: key, message: "dimension keys are 1-128 of letters, digits, _ . : / -" } };
    if (value.length > 256 || !isStorableText(value)) {
      return { ok: false, problem: { parameter: `dimensions.${key}`, message: "dimension values are at most 256 characters of valid text without NUL" } };
    }
  }
  const at = instantOf(input.timestamp, window);
  if (typeof at !== "number") return { ok: false, problem: at };
  return { ok: true, sample: { resourceId: input.resourceId, metricName: input.metricName, value: input.value, unit: input.unit, at, dimensions: input.dimensions } };
}

export function problemError(problem: SampleProblem): PlatformError {
  if (problem.message === "Missing required field") return missingParameter(problem.parameter);
  return invalidParameter(problem.message, { parameter: problem.parameter, value: problem.value });
}

/** How many period-aligned buckets [start, end) touches. */
export function bucketCount(startMs: number, endMs: number, periodSeconds: number): number {
  const periodMs = periodSeconds * 1000;
  return Math.floor((endMs - 1) / periodMs) - Math.floor(startMs / periodMs) + 1;
}

/*
 * The role rules (runtime's access.ts) applied to samples: a sample belongs to one workspace of the
 * domain, or to the whole domain (workspace_id "") when an admin pushed it without one. Writing needs
 * write access to that workspace (WORKSPACE_OWNER, or DOMAIN_ADMIN anywhere in its domain); reading
 * shows only the workspaces the caller may read (the shared tenant scope, without domain-wide rows):
 * domain-wide samples are the admins' alone, nothing says which members they concern.
 */

/** The workspace a write's samples go to, once the caller is known to be allowed to write there. */
export function writeWorkspace(caller: Caller, requested: string): string {
  if (requested) {
    if (requested.length > 255 || !isStorableText(requested)) {
      throw invalidParameter("workspace_id must be at most 255 characters of valid text without NUL", { parameter: "workspace_id" });
    }
    requireWorkspaceAccess(caller, requested, "write");
    return requested;
  }
  if (caller.domainAdmin) return "";
  const owned = caller.roles.filter((r) => r.role === "WORKSPACE_OWNER" && r.workspace_id).map((r) => r.workspace_id!);
  if (owned.length === 1) return owned[0];
  if (owned.length === 0) {
    throw permissionDenied("Pushing metrics needs write access to a workspace (WORKSPACE_OWNER) or DOMAIN_ADMIN", { domain_id: caller.domainId });
  }
  throw invalidParameter("workspace_id is required when the caller owns several workspaces", { parameter: "workspace_id" });
}

/** What GetData asks for, before the statistic. */
export interface SeriesRequestInput {
  resourceIds: string[];
  metricName: string;
  start?: Timestamp;
  end?: Timestamp;
  /** Seconds; 0 means 60. */
  period: number;
}

/** GetData's series and window, checked in order; ERROR_INVALID_PARAMETER names the part at fault. */
export function checkSeriesRequest(input: SeriesRequestInput): { startMs: number; endMs: number; periodSeconds: number } {
  if (input.resourceIds.length === 0) throw missingParameter("resource_ids");
  if (input.resourceIds.length > MAX_RESOURCES) throw invalidParameter("At most 100 resource_ids", { parameter: "resource_ids", value: input.resourceIds.length });
  const emptyId = input.resourceIds.findIndex((id) => !id || id.length > 255 || !isStorableText(id));
  if (emptyId >= 0) throw invalidParameter("resource_ids must be 1-255 characters each", { parameter: `resource_ids[${emptyId}]` });
  const nameProblem = metricNameProblem(input.metricName);
  if (nameProblem) throw problemError(nameProblem);
  const startMs = instantMs(input.start, "start");
  const endMs = instantMs(input.end, "end");
  if (endMs <= startMs) throw invalidParameter("end must be after start", { parameter: "end", value: new Date(endMs).toISOString() });
  const periodSeconds = input.period === 0 ? 60 : input.period;
  if (periodSeconds < 1) throw invalidParameter("period must be a positive number of seconds", { parameter: "period", value: input.period });
  if (bucketCount(startMs, endMs, periodSeconds) > MAX_BUCKETS) {
    throw invalidParameter("More than 10,000 buckets per series; widen the period or narrow the range", { parameter: "period", value: periodSeconds });
  }
  return { startMs, endMs, periodSeconds };
}

/** A required request time as epoch milliseconds. */
function instantMs(timestamp: Timestamp | undefined, parameter: string): number {
  if (!timestamp) throw missingParameter(parameter);
  const ms = timestampDate(timestamp).getTime();
  if (!Number.isFinite(ms)) throw invalidParameter(`${parameter} is not a valid instant`, { parameter });
  return ms;
}
