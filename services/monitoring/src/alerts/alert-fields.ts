import { invalidParameter, missingParameter, permissionDenied } from "@cloudforet/errors";
import { isStorableText } from "@cloudforet/query";
import type { Caller } from "@cloudforet/runtime";
import { requireWorkspaceAccess } from "@cloudforet/runtime";

/*
 * Field checks shared by alert rules, alerts, escalation policies and maintenance windows: every bad
 * input is ERROR_INVALID_PARAMETER naming the field (a missing one "Missing required field", as seed 000).
 * (notification's fields/required-fields.ts does the same for its service; it is private there.)
 */

export const MAX_CHANNELS = 20;

/** A required string: present (after trimming), at most `max` characters of storable text. */
export function requiredText(value: string, parameter: string, max = 255): string {
  const trimmed = value.trim();
  if (!trimmed) throw missingParameter(parameter);
  return optionalText(trimmed, parameter, max);
}

/** An optional string: at most `max` characters of storable text. */
export function optionalText(value: string, parameter: string, max: number): string {
  if (value.length > max || !isStorableText(value)) throw invalidParameter(`${parameter} must be at most ${max} characters of valid text without NUL`, { parameter });
  return value;
}

/** An id the caller names: required, and short enough to be one. */
export function requiredId(value: string, parameter: string): string {
  if (!value) throw missingParameter(parameter);
  if (value.length > 128 || !isStorableText(value)) throw invalidParameter(`${parameter} is not a valid id`, { parameter });
  return value;
}

/** Notification channels (ids, names or types), as NotificationService.Send takes them. */
export function channelList(channels: readonly string[], parameter = "channels"): string[] {
  if (channels.length > MAX_CHANNELS) throw invalidParameter(`at most ${MAX_CHANNELS} channels`, { parameter, value: channels.length });
  channels.forEach((channel, i) => requiredText(channel, `${parameter}[${i}]`, 128));
  return [...new Set(channels.map((c) => c.trim()))];
}

/** PERMISSION_DENIED unless the caller may change a row of this workspace (domain-wide rows: admins only). */
export function requireRowWrite(caller: Caller, workspaceId: string): void {
  if (workspaceId) return requireWorkspaceAccess(caller, workspaceId, "write");
  if (!caller.domainAdmin) throw permissionDenied("Only a domain admin may change domain-wide alerting settings", { domain_id: caller.domainId });
}
