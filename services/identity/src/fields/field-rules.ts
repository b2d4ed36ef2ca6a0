import { randomBytes } from "node:crypto";
import { invalidParameter, missingParameter } from "@cloudforet/errors";

/** Client-chosen ids: "domain-acme", "ws-platform", "sa-prod-cluster-01". */
const idPattern = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;
/** User ids may be e-mail-like: "alice", "admin@nutanix.com", "plugin-service-account". */
const userIdPattern = /^[A-Za-z0-9][A-Za-z0-9._@+-]{0,127}$/;

/** The field, or INVALID_ARGUMENT "Missing required field" naming it. */
export function required(value: string, parameter: string): string {
  if (!value) throw missingParameter(parameter);
  return value;
}

/** A client-chosen id (letters, digits, '-', '_', at most 64), or a generated `<prefix>-<random>` when empty. */
export function entityId(value: string, parameter: string, prefix: string): string {
  if (!value) return generatedId(prefix);
  return validId(value, parameter);
}

export function validId(value: string, parameter: string): string {
  if (!idPattern.test(value)) {
    throw invalidParameter(`${parameter} must be 1-64 letters, digits, '-' or '_', starting with a letter or digit`, { parameter, value: value.slice(0, 80) });
  }
  return value;
}

export function validUserId(value: string, parameter = "user_id"): string {
  required(value, parameter);
  if (!userIdPattern.test(value)) {
    throw invalidParameter(`${parameter} must be 1-128 letters, digits or . _ @ + -, starting with a letter or digit`, { parameter, value: value.slice(0, 140) });
  }
  return value;
}

export function generatedId(prefix: string): string {
  return `${prefix}-${randomBytes(6).toString("hex")}`;
}

/** A display name: required when `isRequired`, at most 255 characters. */
export function validName(value: string, parameter = "name", isRequired = true): string {
  if (isRequired) required(value.trim(), parameter);
  if (value.length > 255) throw invalidParameter(`${parameter} must be at most 255 characters`, { parameter });
  return value;
}

/** An optional expiry: absent → null; in the past (or unreadable) → INVALID_ARGUMENT naming it. */
export function futureInstant(date: Date | undefined, parameter: string, now = new Date()): Date | null {
  if (!date) return null;
  if (Number.isNaN(date.getTime()) || date.getUTCFullYear() > 9999) {
    throw invalidParameter(`${parameter} is not a valid time`, { parameter });
  }
  if (date.getTime() <= now.getTime()) throw invalidParameter(`${parameter} must be in the future`, { parameter, value: date.toISOString() });
  return date;
}

export function validPassword(password: string, parameter = "password"): string {
  if (password.length < 8) throw invalidParameter("Password must be at least 8 characters", { parameter });
  if (password.length > 1024) throw invalidParameter("Password must be at most 1024 characters", { parameter });
  return password;
}
