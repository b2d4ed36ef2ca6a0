import { invalidParameter, missingParameter } from "@cloudforet/errors";

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
