import type { Timestamp } from "@bufbuild/protobuf/wkt";
import { invalidParameter, missingParameter, type PlatformError } from "@cloudforet/errors";
import { isStorableText } from "../storable-text";

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
