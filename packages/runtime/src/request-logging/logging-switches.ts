import { identitySubjects } from "@cloudforet/events";
import type { Caller } from "../caller";

export type RequestLogMode = "TRUNCATED" | "COMPLETE";

/** What a caller's logging switch belongs to: the user, or the API key its token came from. */
export type LoggingCallerType = "USER" | "API_KEY";

interface SwitchChangeData {
  domain_id?: unknown;
  caller_type?: unknown;
  caller_id?: unknown;
  enabled?: unknown;
  mode?: unknown;
  at?: unknown;
}

export const switchKey = (domainId: string, callerType: LoggingCallerType, callerId: string) => `${domainId}/${callerType}/${callerId}`;

/** The switch a call's caller is subject to: its API key's when its token came from one, else the user's. */
export function callerSwitch(caller: Caller): { callerType: LoggingCallerType; callerId: string } {
  return caller.apiKeyId ? { callerType: "API_KEY", callerId: caller.apiKeyId } : { callerType: "USER", callerId: caller.userId };
}

/**
 * Which callers have request logging on, learned from identity's `request_logging.changed` events
 * (replayed at start with the access changes). Only callers with logging on are kept, so the check
 * for everyone else is one empty-Map test or one Map miss: no database or NATS round trip.
 */
export class RequestLoggingSwitches {
  private readonly on = new Map<string, { mode: RequestLogMode; atMs: number }>();
  /** Latest change time per key, also for switches turned off, so a late older event cannot turn one back on. */
  private readonly changedAt = new Map<string, number>();

  /** The mode of the caller's logging, or undefined when it is off (the common case). */
  modeFor(caller: Caller): RequestLogMode | undefined {
    if (this.on.size === 0) return undefined;
    const { callerType, callerId } = callerSwitch(caller);
    return this.on.get(switchKey(caller.domainId, callerType, callerId))?.mode;
  }

  set(domainId: string, callerType: LoggingCallerType, callerId: string, enabled: boolean, mode: RequestLogMode, atMs: number): void {
    const key = switchKey(domainId, callerType, callerId);
    if ((this.changedAt.get(key) ?? -Infinity) > atMs) return;
    this.changedAt.set(key, atMs);
    if (enabled) this.on.set(key, { mode, atMs });
    else this.on.delete(key);
  }

  /** Applies one identity event; other subjects and malformed data are ignored. */
  apply(subject: string, data: SwitchChangeData): void {
    if (subject !== identitySubjects.requestLoggingChanged) return;
    const { domain_id, caller_type, caller_id, enabled, mode, at } = data;
    if (typeof domain_id !== "string" || typeof caller_id !== "string" || (caller_type !== "USER" && caller_type !== "API_KEY")) return;
    const parsed = typeof at === "string" ? Date.parse(at) : Number.NaN;
    this.set(domain_id, caller_type, caller_id, enabled === true, mode === "COMPLETE" ? "COMPLETE" : "TRUNCATED", Number.isFinite(parsed) ? parsed : Date.now());
  }
}
