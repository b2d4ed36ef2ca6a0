import type { JsonObject, JsonValue } from "@bufbuild/protobuf";
import { invalidParameter } from "@cloudforet/errors";
import { OutboundPolicy } from "@cloudforet/outbound";
import type { ChannelType } from "../db/schema";

/** What a delivery needs to reach a channel: its options merged with its secret's data. */
export type ChannelSettings = WebhookSettings | SlackSettings | EmailSettings;

export interface WebhookSettings {
  type: "WEBHOOK";
  url: string;
  method: "POST" | "PUT";
  headers: Record<string, string>;
}

export interface SlackSettings {
  type: "SLACK";
  url: string;
  channel?: string;
  username?: string;
}

export interface EmailSettings {
  type: "EMAIL";
  host: string;
  port: number;
  /** Implicit TLS (port 465 style); otherwise STARTTLS when the server offers it. */
  secure: boolean;
  from: string;
  /** Used when Send names no e-mail recipient. */
  to: string[];
  auth?: { user: string; pass: string };
}

const emailAddress = /^[^\s@<>()[\]\\,;:"]+@[^\s@<>()[\]\\,;:"]+$/;
const namedAddress = /^[^<>]{0,200}<([^\s@<>()[\]\\,;:"]+@[^\s@<>()[\]\\,;:"]+)>$/;
const hostname = /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,62})(\.[A-Za-z0-9]([A-Za-z0-9-]{0,62}))*$|^\[?[0-9a-fA-F:.]+\]?$/;
const headerName = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,128}$/;
const MAX_URL = 2048;
const strictPolicy = new OutboundPolicy();
const MAX_TEXT = 256;

/** True for "ops-team@company.com" (what Send routes to e-mail channels). */
export function isEmailAddress(value: string): boolean {
  return value.length <= 320 && emailAddress.test(value);
}

const allowedKeys: Record<ChannelType, string[]> = {
  WEBHOOK: ["url", "method", "headers"],
  SLACK: ["url", "channel", "username"],
  EMAIL: ["host", "port", "secure", "from", "to"],
};

/**
 * Validates a channel's options at Create and returns them normalized (method upper-cased, `to`
 * as a list). `hasSecretUrl` says the channel's secret supplies a Slack URL. Errors name the
 * option: `options.url`. A URL or SMTP host that is a loopback, private, link-local or metadata
 * address (or localhost) is refused by `outbound` (default: no allowlist); names are judged again
 * at every delivery.
 */
export function validateOptions(type: ChannelType, options: JsonObject, hasSecretUrl = false, outbound: OutboundPolicy = strictPolicy): JsonObject {
  for (const key of Object.keys(options)) {
    if (!allowedKeys[type].includes(key)) {
      throw invalidParameter(`${type} channels take no option "${key}" (allowed: ${allowedKeys[type].join(", ")}); credentials belong in a secret`, {
        parameter: `options.${key}`,
      });
    }
  }
  switch (type) {
    case "WEBHOOK": {
      const normalized: JsonObject = { url: httpUrl(options.url, "options.url", true, outbound) as string };
      if (options.method !== undefined) {
        const method = text(options.method, "options.method").toUpperCase();
        if (method !== "POST" && method !== "PUT") throw invalidParameter("options.method must be POST or PUT", { parameter: "options.method", value: method });
        normalized.method = method;
      }
      if (options.headers !== undefined) normalized.headers = headers(options.headers, "options.headers");
      return normalized;
    }
    case "SLACK": {
      const normalized: JsonObject = {};
      const url = httpUrl(options.url, "options.url", !hasSecretUrl, outbound);
      if (url !== undefined) normalized.url = url;
      if (options.channel !== undefined) normalized.channel = text(options.channel, "options.channel");
      if (options.username !== undefined) normalized.username = text(options.username, "options.username");
      return normalized;
    }
    case "EMAIL": {
      const host = text(options.host, "options.host");
      if (!hostname.test(host)) throw invalidParameter("options.host must be a host name or IP address", { parameter: "options.host", value: host });
      outbound.validateStoredHost(host, "options.host");
      const normalized: JsonObject = { host, from: sender(options.from) };
      if (options.port !== undefined) normalized.port = port(options.port);
      if (options.secure !== undefined) {
        if (typeof options.secure !== "boolean") throw invalidParameter("options.secure must be true or false", { parameter: "options.secure" });
        normalized.secure = options.secure;
      }
      if (options.to !== undefined) normalized.to = addressList(options.to, "options.to");
      return normalized;
    }
  }
}

/**
 * Checks that a secret's data has what the channel type needs (EMAIL {username, password};
 * WEBHOOK {headers}; SLACK {url}). Errors name `secret_id`; the data itself is never echoed.
 */
export function validateCredentials(type: ChannelType, data: JsonObject, secretId: string): void {
  const fail = (what: string) => invalidParameter(`The secret's data must hold ${what} for a ${type} channel`, { parameter: "secret_id", value: secretId });
  switch (type) {
    case "EMAIL":
      if (typeof data.username !== "string" || typeof data.password !== "string" || !data.password) throw fail("username and password (strings)");
      return;
    case "WEBHOOK":
      try {
        headers(data.headers, "headers");
      } catch {
        throw fail("headers (an object of header names to strings)");
      }
      return;
    case "SLACK":
      try {
        httpUrl(data.url, "url", true);
      } catch {
        throw fail("url (the incoming-webhook URL)");
      }
      return;
  }
}

/** A channel's delivery settings from its stored (already validated) options and its secret's data. */
export function channelSettings(type: ChannelType, options: JsonObject, credentials: JsonObject | undefined): ChannelSettings {
  switch (type) {
    case "WEBHOOK":
      return {
        type,
        url: options.url as string,
        method: (options.method as "POST" | "PUT" | undefined) ?? "POST",
        headers: { ...((options.headers as Record<string, string> | undefined) ?? {}), ...((credentials?.headers as Record<string, string> | undefined) ?? {}) },
      };
    case "SLACK": {
      const url = (credentials?.url as string | undefined) ?? (options.url as string | undefined);
      if (!url) throw new Error("the Slack channel has no URL in its options or its secret");
      return { type, url, channel: options.channel as string | undefined, username: options.username as string | undefined };
    }
    case "EMAIL": {
      const port = (options.port as number | undefined) ?? 587;
      return {
        type,
        host: options.host as string,
        port,
        secure: (options.secure as boolean | undefined) ?? port === 465,
        from: options.from as string,
        to: (options.to as string[] | undefined) ?? [],
        ...(credentials ? { auth: { user: credentials.username as string, pass: credentials.password as string } } : {}),
      };
    }
  }
}

function text(value: JsonValue | undefined, parameter: string): string {
  if (typeof value !== "string" || value.trim() === "") throw invalidParameter(`${parameter} must be a non-empty string`, { parameter });
  if (value.length > MAX_TEXT) throw invalidParameter(`${parameter} is longer than ${MAX_TEXT} characters`, { parameter });
  return value.trim();
}

function httpUrl(value: JsonValue | undefined, parameter: string, required: boolean, outbound?: OutboundPolicy): string | undefined {
  if (value === undefined || value === null || value === "") {
    if (required) throw invalidParameter(`${parameter} is required`, { parameter });
    return undefined;
  }
  if (typeof value !== "string" || value.length > MAX_URL) throw invalidParameter(`${parameter} must be an http(s) URL of at most ${MAX_URL} characters`, { parameter });
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw invalidParameter(`${parameter} must be an http(s) URL`, { parameter, value });
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw invalidParameter(`${parameter} must be an http(s) URL`, { parameter, value });
  if (url.username || url.password) throw invalidParameter(`${parameter} must not carry credentials; put them in a secret`, { parameter });
  outbound?.validateStoredUrl(url, parameter);
  return value;
}

function headers(value: JsonValue | undefined, parameter: string): Record<string, string> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw invalidParameter(`${parameter} must be an object of header names to strings`, { parameter });
  const entries = Object.entries(value);
  if (entries.length > 50) throw invalidParameter(`${parameter} holds more than 50 headers`, { parameter });
  for (const [name, headerValue] of entries) {
    if (!headerName.test(name)) throw invalidParameter(`${parameter} has an invalid header name`, { parameter: `${parameter}.${name.slice(0, 64)}` });
    if (typeof headerValue !== "string" || headerValue.length > 4096 || /[\r\n\0]/.test(headerValue)) {
      throw invalidParameter(`${parameter}.${name} must be a single-line string of at most 4096 characters`, { parameter: `${parameter}.${name}` });
    }
  }
  return value as Record<string, string>;
}

function port(value: JsonValue): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1 || value > 65535) {
    throw invalidParameter("options.port must be an integer from 1 to 65535", { parameter: "options.port", value: String(value) });
  }
  return value;
}

function sender(value: JsonValue | undefined): string {
  const from = text(value, "options.from");
  if (!isEmailAddress(from) && !namedAddress.test(from)) {
    throw invalidParameter('options.from must be an e-mail address or "Name <address>"', { parameter: "options.from", value: from });
  }
  return from;
}

function addressList(value: JsonValue, parameter: string): string[] {
  const list = typeof value === "string" ? [value] : value;
  if (!Array.isArray(list) || list.length > 100) throw invalidParameter(`${parameter} must be a list of at most 100 e-mail addresses`, { parameter });
  return list.map((address, i) => {
    if (typeof address !== "string" || !isEmailAddress(address)) throw invalidParameter(`${parameter}[${i}] is not an e-mail address`, { parameter: `${parameter}[${i}]` });
    return address;
  });
}
