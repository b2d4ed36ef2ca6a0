import { invalidParameter, missingParameter } from "@cloudforet/errors";
import type { OutboundPolicy } from "@cloudforet/outbound";
import type { EndpointHealth } from "../db/schema";

export type PluginKind = "COLLECTOR" | "NOTIFICATION_PROTOCOL";
export type RoutingMode = "WEIGHTED" | "FAILOVER";

/** The alias an empty version names (else the newest version is used). */
export const DEFAULT_ALIAS = "stable";
export const MAX_ENDPOINTS = 16;
export const MAX_WEIGHT = 1000;

const versionPattern = /^\d{1,6}\.\d{1,6}\.\d{1,6}(?:-[0-9A-Za-z.-]{1,64})?$/;
const aliasPattern = /^[a-z][a-z0-9_-]{0,62}$/;

/** Semantic versions: "1.4.2", "2.0.0-rc.1". */
export function validateVersion(version: string, parameter = "version"): string {
  if (!version) throw missingParameter(parameter);
  if (!versionPattern.test(version)) throw invalidParameter(`${parameter} must be a semantic version such as 1.4.2`, { parameter, value: version.slice(0, 128) });
  return version;
}

export const isVersion = (value: string) => versionPattern.test(value);

/** Alias names: lower-case letters, digits, '-' or '_', starting with a letter (so never a version). */
export function validateAliasName(name: string, parameter = "name"): string {
  if (!name) throw missingParameter(parameter);
  if (!aliasPattern.test(name)) throw invalidParameter(`${parameter} must be lower-case letters, digits, '-' or '_', starting with a letter`, { parameter, value: name.slice(0, 128) });
  return name;
}

/** A version or an alias as a collector or an enrollment names it; empty is allowed (DEFAULT_ALIAS, else the newest). */
export function validateVersionRef(ref: string, parameter: string): string {
  if (ref && !isVersion(ref) && !aliasPattern.test(ref)) throw invalidParameter(`${parameter} must be a version (1.4.2) or an alias (stable)`, { parameter, value: ref.slice(0, 128) });
  return ref;
}

export interface EndpointInput {
  url: string;
  weight: number;
}

/**
 * A version's endpoints: 1 to 16 distinct http(s) URLs without credentials that the outbound policy
 * allows (a plugin address is user input: the platform must not become a proxy into its own network),
 * weights 0..1000 (0 given on the wire means the default 1 only when every weight is 0).
 */
export function validateEndpoints(endpoints: readonly EndpointInput[], outbound: OutboundPolicy): EndpointInput[] {
  if (endpoints.length === 0) throw missingParameter("endpoints");
  if (endpoints.length > MAX_ENDPOINTS) throw invalidParameter(`endpoints holds more than ${MAX_ENDPOINTS} entries`, { parameter: "endpoints" });
  const allZero = endpoints.every((e) => e.weight === 0);
  const seen = new Set<string>();
  return endpoints.map((endpoint, i) => {
    const parameter = `endpoints[${i}].url`;
    if (!endpoint.url) throw missingParameter(parameter);
    let url: URL;
    try {
      url = new URL(endpoint.url);
    } catch {
      throw invalidParameter(`${parameter} must be an http(s) URL`, { parameter, value: endpoint.url.slice(0, 256) });
    }
    if ((url.protocol !== "http:" && url.protocol !== "https:") || url.username || url.password || endpoint.url.length > 2048) {
      throw invalidParameter(`${parameter} must be an http(s) URL without credentials`, { parameter, value: endpoint.url.slice(0, 256) });
    }
    outbound.validateStoredUrl(url, parameter);
    const normalized = endpoint.url.replace(/\/+$/, "");
    if (seen.has(normalized)) throw invalidParameter(`${parameter} repeats an endpoint of the version`, { parameter, value: normalized.slice(0, 256) });
    seen.add(normalized);
    const weightParameter = `endpoints[${i}].weight`;
    if (!Number.isInteger(endpoint.weight) || endpoint.weight < 0 || endpoint.weight > MAX_WEIGHT) {
      throw invalidParameter(`${weightParameter} must be an integer from 0 to ${MAX_WEIGHT}`, { parameter: weightParameter, value: String(endpoint.weight) });
    }
    return { url: normalized, weight: allZero ? 1 : endpoint.weight };
  });
}

/** Versions newest first (numeric parts; a pre-release before its release). */
export function compareVersionsDescending(a: string, b: string): number {
  const parse = (v: string) => {
    const [core, pre] = v.split(/-(.*)/s);
    return { parts: core.split(".").map(Number), pre: pre ?? "" };
  };
  const x = parse(a);
  const y = parse(b);
  for (let i = 0; i < 3; i++) if (x.parts[i] !== y.parts[i]) return (y.parts[i] ?? 0) - (x.parts[i] ?? 0);
  if (x.pre === y.pre) return 0;
  if (!x.pre) return -1;
  if (!y.pre) return 1;
  return x.pre < y.pre ? 1 : -1;
}

export interface RoutableEndpoint {
  url: string;
  weight: number;
  health: EndpointHealth;
}

export interface RouteChoice<E extends RoutableEndpoint> {
  /** The order a call tries the endpoints in: the chosen one first. */
  candidates: E[];
  explanation: string;
}

/**
 * Orders a version's endpoints for one call. Unhealthy endpoints go last (still tried when every one
 * is unhealthy: a health check may be stale); so do drained ones (weight 0). FAILOVER keeps the
 * registered order; WEIGHTED draws the first in proportion to the weights (`random` in [0, 1)).
 */
export function routeCall<E extends RoutableEndpoint>(endpoints: readonly E[], mode: RoutingMode, random: number = Math.random()): RouteChoice<E> {
  const usable = endpoints.filter((e) => e.health !== "UNHEALTHY" && e.weight > 0);
  const drained = endpoints.filter((e) => e.health !== "UNHEALTHY" && e.weight === 0);
  const unhealthy = endpoints.filter((e) => e.health === "UNHEALTHY");
  const skipped = unhealthy.map((e) => `${e.url} skipped (UNHEALTHY)`);
  let ordered: E[];
  if (mode === "WEIGHTED" && usable.length > 1) {
    const total = usable.reduce((sum, e) => sum + e.weight, 0);
    let point = random * total;
    let index = usable.findIndex((e) => (point -= e.weight) < 0);
    if (index < 0) index = usable.length - 1;
    ordered = [usable[index], ...usable.filter((_, i) => i !== index)];
  } else {
    ordered = [...usable];
  }
  const candidates = [...ordered, ...drained, ...unhealthy];
  const chosen = candidates[0];
  const why =
    mode === "WEIGHTED"
      ? `WEIGHTED: drew ${chosen?.url ?? "nothing"} (weight ${chosen?.weight ?? 0} of ${usable.reduce((sum, e) => sum + e.weight, 0)})`
      : `FAILOVER: first healthy endpoint ${chosen?.url ?? "none"}`;
  const fallback = usable.length === 0 && chosen ? "; no healthy endpoint left, trying anyway" : "";
  return { candidates, explanation: [why + fallback, ...skipped].join("; ") };
}
