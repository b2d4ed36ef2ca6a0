import type { JsonObject, JsonValue } from "@bufbuild/protobuf";
import { invalidParameter } from "@cloudforet/errors";

/** Where and how to reach Prism Central, from a secret's `nutanix_*` fields. */
export interface PrismConnection {
  /** e.g. "https://prism.nutanix.local:9440" (or "http://127.0.0.1:PORT" for the simulator). */
  baseUrl: string;
  username: string;
  password: string;
  /** false accepts self-signed certificates (rejectUnauthorized: false). */
  verifySsl: boolean;
}

export const DEFAULT_PRISM_PORT = 9440;

/**
 * Reads the secret of seed 000 "Fetch Secret". `nutanix_host` is a host name, or a full
 * `http(s)://host:port` URL; `prismUrl` (the plugin option / push setting `prism_url`) overrides both
 * host and port, which is how tests point the collector at the plain-http simulator.
 */
export function connectionFromSecret(secret: JsonObject, prismUrl?: string): PrismConnection {
  const username = text(secret, "nutanix_username");
  const password = text(secret, "nutanix_password");
  if (!username) throw invalidParameter("The secret has no nutanix_username", { parameter: "nutanix_username" });
  if (!password) throw invalidParameter("The secret has no nutanix_password", { parameter: "nutanix_password" });
  const verifySsl = secret.verify_ssl === undefined ? true : secret.verify_ssl === true || secret.verify_ssl === "true";
  return { baseUrl: baseUrlOf(secret, prismUrl), username, password, verifySsl };
}

function baseUrlOf(secret: JsonObject, prismUrl?: string): string {
  if (prismUrl) return checkedUrl(prismUrl, "prism_url");
  const host = text(secret, "nutanix_host");
  if (!host) throw invalidParameter("The secret has no nutanix_host", { parameter: "nutanix_host" });
  if (/^https?:\/\//.test(host)) return checkedUrl(host, "nutanix_host");
  const port = secret.nutanix_port === undefined || secret.nutanix_port === null ? DEFAULT_PRISM_PORT : Number(secret.nutanix_port);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw invalidParameter("nutanix_port must be a port number", { parameter: "nutanix_port", value: String(secret.nutanix_port) });
  }
  if (!/^[A-Za-z0-9.\-:[\]]+$/.test(host)) throw invalidParameter("nutanix_host is not a host name", { parameter: "nutanix_host", value: host });
  return `https://${host}:${port}`;
}

function checkedUrl(value: string, parameter: string): string {
  try {
    const url = new URL(value);
    if (url.protocol !== "http:" && url.protocol !== "https:") throw new Error("not http(s)");
    return url.origin;
  } catch {
    throw invalidParameter(`${parameter} is not an http(s) URL`, { parameter, value });
  }
}

function text(obj: JsonObject, key: string): string {
  const value: JsonValue | undefined = obj[key];
  return typeof value === "string" ? value.trim() : typeof value === "number" ? String(value) : "";
}
