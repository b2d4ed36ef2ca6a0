import type { JsonObject, JsonValue } from "@bufbuild/protobuf";
import { invalidParameter, missingParameter } from "@cloudforet/errors";
import { OutboundPolicy } from "@cloudforet/outbound";

const idPattern = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
const providerPattern = /^[a-z0-9][a-z0-9_-]{0,62}$/;

/** Client-chosen ids: letters, digits, '-', '_', '.', at most 64. */
export function validateId(parameter: string, id: string): string {
  if (!idPattern.test(id)) throw invalidParameter(`${parameter} must be 1-64 letters, digits, '-', '_' or '.'`, { parameter, value: id.slice(0, 128) });
  return id;
}

export function validateName(name: string, parameter = "name"): string {
  if (!name) throw missingParameter(parameter);
  if (name.length > 255 || name.includes("\u0000")) throw invalidParameter(`${parameter} must be at most 255 characters`, { parameter });
  return name;
}

export function validateProvider(provider: string): string {
  if (!provider) throw missingParameter("provider");
  if (!providerPattern.test(provider)) throw invalidParameter("provider must be lower-case letters, digits, _ or -", { parameter: "provider", value: provider.slice(0, 128) });
  return provider;
}

const strictPolicy = new OutboundPolicy();

/**
 * A plugin endpoint is an http(s) base URL without credentials; empty means push-only. A loopback,
 * private, link-local or metadata address (or localhost) is refused unless `outbound` allowlists it.
 */
export function validateEndpoint(endpoint: string, outbound: OutboundPolicy = strictPolicy): string {
  if (!endpoint) return "";
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw invalidParameter("plugin_info.endpoint must be an http(s) URL", { parameter: "plugin_info.endpoint", value: endpoint.slice(0, 256) });
  }
  if ((url.protocol !== "http:" && url.protocol !== "https:") || url.username || url.password || endpoint.length > 2048) {
    throw invalidParameter("plugin_info.endpoint must be an http(s) URL", { parameter: "plugin_info.endpoint", value: endpoint.slice(0, 256) });
  }
  outbound.validateStoredUrl(url, "plugin_info.endpoint");
  return endpoint.replace(/\/+$/, "");
}

/** Free-form options: JSON with finite numbers, at most 64 KiB. */
export function validateOptions(options: JsonObject, parameter: string): JsonObject {
  const check = (value: JsonValue, depth: number): void => {
    if (depth > 16) throw invalidParameter(`${parameter} is nested too deeply`, { parameter });
    if (typeof value === "number" && !Number.isFinite(value)) throw invalidParameter(`${parameter} holds a number that is not finite`, { parameter });
    if (Array.isArray(value)) value.forEach((v) => check(v, depth + 1));
    else if (value && typeof value === "object") Object.values(value).forEach((v) => check(v as JsonValue, depth + 1));
  };
  check(options, 0);
  if (Buffer.byteLength(JSON.stringify(options)) > 64 * 1024) throw invalidParameter(`${parameter} is larger than 64 KiB`, { parameter });
  return options;
}
