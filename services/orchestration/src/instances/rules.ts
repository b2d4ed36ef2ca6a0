import { Code } from "@connectrpc/connect";
import { PlatformError, invalidParameter, payloadTooLarge } from "@cloudforet/errors";
import { ErrorCode } from "@cloudforet/errors";

export const INSTANCE_STATES = ["scheduled", "running", "waiting", "paused", "completed", "failed", "cancelled"] as const;
export type InstanceState = (typeof INSTANCE_STATES)[number];

export const PRIORITIES = ["low", "normal", "high", "critical"] as const;
export type Priority = (typeof PRIORITIES)[number];

/** Claim order: critical first. */
export const PRIORITY_RANK: Record<Priority, number> = { low: 0, normal: 1, high: 2, critical: 3 };

export const TERMINAL_STATES: InstanceState[] = ["completed", "cancelled", "failed"];
export const NON_TERMINAL_STATES: InstanceState[] = ["scheduled", "running", "waiting", "paused"];

/** Seed 002's table of legal state changes. */
export const TRANSITIONS: Readonly<Record<InstanceState, readonly InstanceState[]>> = {
  scheduled: ["running", "paused", "cancelled"],
  running: ["scheduled", "waiting", "completed", "failed", "paused", "cancelled"],
  waiting: ["running", "scheduled", "cancelled", "failed"],
  paused: ["scheduled", "cancelled"],
  failed: ["scheduled"],
  completed: [],
  cancelled: [],
};

export const canTransition = (from: InstanceState, to: InstanceState) => TRANSITIONS[from].includes(to);

/** The states from which `to` may be reached. */
export const statesLeadingTo = (to: InstanceState) => INSTANCE_STATES.filter((from) => canTransition(from, to));

/** ERROR_CONFLICT as FAILED_PRECONDITION (REST 400): the table forbids the change. */
export function illegalStateChange(message: string, metadata: Record<string, string>): PlatformError {
  return new PlatformError(ErrorCode.CONFLICT, message, { metadata, grpcCode: Code.FailedPrecondition });
}

export function parseState(value: unknown, parameter: string): InstanceState {
  const state = typeof value === "string" ? value.toLowerCase() : value;
  if (!INSTANCE_STATES.includes(state as InstanceState)) {
    throw invalidParameter(`${parameter} must be one of ${INSTANCE_STATES.join(", ")}`, { parameter, value: String(value) });
  }
  return state as InstanceState;
}

export function parsePriority(value: unknown, parameter: string): Priority {
  if (value === undefined || value === null || value === "") return "normal";
  const priority = typeof value === "string" ? value.toLowerCase() : value;
  if (!PRIORITIES.includes(priority as Priority)) throw invalidParameter(`${parameter} must be one of ${PRIORITIES.join(", ")}`, { parameter, value: String(value) });
  return priority as Priority;
}

export function validateTimezone(value: unknown, parameter: string): string {
  if (value === undefined || value === null || value === "") return "UTC";
  if (typeof value !== "string") throw invalidParameter(`${parameter} must be an IANA time zone`, { parameter });
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: value });
  } catch {
    throw invalidParameter(`${parameter} is not an IANA time zone: ${value}`, { parameter, value });
  }
  return value;
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);

/**
 * An instance's context with its four sections present: data and config (the inputs), audit (what
 * happened: signals, variants) and runtime (current_step, attempt, errors).
 */
export function normalizeContext(value: unknown, parameter: string): Record<string, unknown> {
  if (value === undefined || value === null) value = {};
  if (!isObject(value)) throw invalidParameter(`${parameter} must be an object`, { parameter });
  for (const section of ["data", "config", "runtime"]) {
    if (value[section] !== undefined && value[section] !== null && !isObject(value[section])) {
      throw invalidParameter(`${parameter}.${section} must be an object`, { parameter: `${parameter}.${section}` });
    }
  }
  if (value.audit !== undefined && value.audit !== null && !Array.isArray(value.audit)) throw invalidParameter(`${parameter}.audit must be an array`, { parameter: `${parameter}.audit` });
  return {
    ...value,
    data: value.data ?? {},
    config: value.config ?? {},
    audit: value.audit ?? [],
    runtime: { current_step: null, attempt: 0, ...((value.runtime as Record<string, unknown> | undefined) ?? {}) },
  };
}

export const jsonBytes = (value: unknown) => Buffer.byteLength(JSON.stringify(value ?? null));

/** ERROR_PAYLOAD_TOO_LARGE (413) when the serialized context exceeds the engine's limit. */
export function checkContextSize(context: unknown, maxBytes: number, parameter = "context"): void {
  const size = jsonBytes(context);
  if (size > maxBytes) throw payloadTooLarge(`${parameter} is ${size} bytes, more than max_context_bytes (${maxBytes})`, { parameter, size, limit: maxBytes });
}

const SIGNAL_TYPE = /^(pause|resume|cancel|update_context|custom:[A-Za-z0-9_.:-]{1,128})$/;

/** A signal type as stored: the seed's strings, and Orch8's tagged form `{ "custom": "<name>" }` as "custom:<name>". */
export function validateSignalType(value: unknown): string {
  if (value !== null && typeof value === "object" && !Array.isArray(value) && Object.keys(value).length === 1 && typeof (value as { custom?: unknown }).custom === "string") {
    value = `custom:${(value as { custom: string }).custom}`;
  }
  if (typeof value !== "string" || !SIGNAL_TYPE.test(value)) {
    throw invalidParameter('signal_type must be "pause", "resume", "cancel", "update_context" "custom:<name>" or { "custom": "<name>" }', { parameter: "signal_type", value: typeof value === "string" ? value : JSON.stringify(value ?? null).slice(0, 200) });
  }
  return value;
}
