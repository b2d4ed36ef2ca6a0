import { invalidParameter, missingParameter } from "@cloudforet/errors";

const tagKey = /^[\w.:/-]{1,128}$/;

/** Tags are a small map of short strings. */
export function validateTags(tags: Record<string, string>, parameter = "tags"): Record<string, string> {
  const entries = Object.entries(tags);
  if (entries.length > 100) throw invalidParameter("at most 100 tags", { parameter });
  for (const [key, value] of entries) {
    if (!tagKey.test(key)) throw invalidParameter("tag keys are 1-128 of letters, digits, _ . : / -", { parameter, value: key.slice(0, 128) });
    if (value.length > 1024) throw invalidParameter("tag values are at most 1024 characters", { parameter: `${parameter}.${key}` });
  }
  return tags;
}

/** A required string field: present (after trimming) and at most `max` characters. */
export function requiredText(value: string, parameter: string, max: number): string {
  const trimmed = value.trim();
  if (!trimmed) throw missingParameter(parameter);
  if (trimmed.length > max) throw invalidParameter(`${parameter} is longer than ${max} characters`, { parameter });
  return trimmed;
}

/** An id the caller names: required, and short enough to be one. */
export function requiredId(value: string, parameter: string): string {
  if (!value) throw missingParameter(parameter);
  if (value.length > 128) throw invalidParameter(`${parameter} is longer than 128 characters`, { parameter });
  return value;
}
