import { invalidParameter, missingParameter } from "@cloudforet/errors";
import { OutboundPolicy } from "@cloudforet/outbound";
import { CronSyntaxError, nextFireAfter, parseCron } from "@cloudforet/cron";
import { validateTimezone } from "../instances/rules";

/** The validated input shapes of a recurrent request: its schedule and what it calls. */

export type Recurrence = { scheduleType: "interval"; intervalSeconds: number } | { scheduleType: "cron"; cronExpression: string; timezone: string };

/** What is stored in `target` (no secrets) plus the credential headers to seal. */
export interface ParsedTarget {
  /** The public part: url | rpc, method, headers (credential ones removed), json, sealed_headers. */
  target: Record<string, unknown>;
  /** Credential headers (sealed at rest; empty when none). */
  secrets: Record<string, string>;
}

const strictPolicy = new OutboundPolicy();
const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);
const MAX_INTERVAL_SECONDS = 366 * 24 * 3600;
/** Largest request body a recurrent request stores (it is sent at every fire). */
const MAX_BODY_BYTES = 256 * 1024;
const METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"];
/** cloudforet.<service>.v<n>.<Service>/<Method>: the service's URL comes from CLOUDFORET_<SERVICE>_URL. */
const RPC = /^cloudforet\.([a-z][a-z0-9_]*)\.v\d+\.[A-Z][A-Za-z0-9]*\/[A-Z][A-Za-z0-9]*$/;

/** A workspace id as identity allows them (1-64 letters, digits, "-" or "_"). */
const WORKSPACE_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

/** Header names whose values are credentials: sealed, never stored in `target` nor returned. */
export function isCredentialHeader(name: string): boolean {
  const n = name.toLowerCase();
  return ["authorization", "proxy-authorization", "cookie", "x-api-key"].includes(n) || n.includes("token") || n.includes("secret") || n.includes("api-key") || n.includes("apikey");
}

/** Validates `recurrence` ({schedule_type: "interval", interval_seconds} or {schedule_type: "cron", cron_expression, timezone}). */
export function recurrenceOf(value: unknown): Recurrence {
  if (value === undefined || value === null) throw missingParameter("recurrence");
  if (!isObject(value)) throw invalidParameter("recurrence must be an object", { parameter: "recurrence" });
  const type = value.schedule_type;
  if (type === undefined || type === null || type === "") throw missingParameter("recurrence.schedule_type");
  if (type === "interval") {
    const seconds = value.interval_seconds;
    if (seconds === undefined || seconds === null) throw missingParameter("recurrence.interval_seconds");
    if (typeof seconds !== "number" || !Number.isInteger(seconds) || seconds < 1 || seconds > MAX_INTERVAL_SECONDS) {
      throw invalidParameter(`recurrence.interval_seconds must be an integer from 1 to ${MAX_INTERVAL_SECONDS}`, { parameter: "recurrence.interval_seconds", value: String(seconds) });
    }
    return { scheduleType: "interval", intervalSeconds: seconds };
  }
  if (type === "cron") {
    const expr = value.cron_expression;
    if (expr === undefined || expr === null || expr === "") throw missingParameter("recurrence.cron_expression");
    if (typeof expr !== "string") throw invalidParameter("recurrence.cron_expression must be a string", { parameter: "recurrence.cron_expression" });
    let source: string;
    try {
      source = parseCron(expr).source;
    } catch (err) {
      if (err instanceof CronSyntaxError) throw invalidParameter(`recurrence.cron_expression is invalid: ${err.message}`, { parameter: "recurrence.cron_expression", value: expr });
      throw err;
    }
    const timezone = validateTimezone(value.timezone, "recurrence.timezone");
    if (!nextFireAfter(parseCron(source), timezone, new Date())) throw invalidParameter("recurrence.cron_expression never fires again", { parameter: "recurrence.cron_expression", value: expr });
    return { scheduleType: "cron", cronExpression: source, timezone };
  }
  throw invalidParameter('recurrence.schedule_type must be "interval" or "cron"', { parameter: "recurrence.schedule_type", value: String(type) });
}

/**
 * Validates `target`: `{url, method?, headers?, json?, token?}` or `{rpc, headers?, json?, token?,
 * run_as_workspace_id?}`. Credential headers and `token` (sent as "Authorization: Bearer …") become
 * the secrets; an rpc target without any uses `callerAuthorization` (the creator's own bearer
 * credential), unless it runs as a workspace's service identity (granted by the caller).
 * A url pointing at a loopback, private, link-local or metadata address (or localhost) is refused
 * here by `outbound` (default: the policy with no allowlist); names are judged again at each call.
 */
export function targetOf(value: unknown, serviceUrls: Record<string, string>, callerAuthorization?: string, outbound: OutboundPolicy = strictPolicy): ParsedTarget {
  if (value === undefined || value === null) throw missingParameter("target");
  if (!isObject(value)) throw invalidParameter("target must be an object", { parameter: "target" });
  const hasUrl = value.url !== undefined && value.url !== null && value.url !== "";
  const hasRpc = value.rpc !== undefined && value.rpc !== null && value.rpc !== "";
  if (hasUrl === hasRpc) throw invalidParameter("target needs exactly one of url and rpc", { parameter: "target" });
  const target: Record<string, unknown> = {};
  if (hasUrl) {
    if (typeof value.url !== "string") throw invalidParameter("target.url must be a string", { parameter: "target.url" });
    let url: URL;
    try {
      url = new URL(value.url);
    } catch {
      throw invalidParameter("target.url is not a URL", { parameter: "target.url", value: value.url });
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") throw invalidParameter("target.url must be http or https", { parameter: "target.url", value: value.url });
    if (url.username || url.password) throw invalidParameter("target.url must not carry credentials; use headers or token", { parameter: "target.url" });
    outbound.validateStoredUrl(url, "target.url");
    const method = value.method === undefined || value.method === null || value.method === "" ? "POST" : value.method;
    if (typeof method !== "string" || !METHODS.includes(method.toUpperCase())) throw invalidParameter(`target.method must be one of ${METHODS.join(", ")}`, { parameter: "target.method", value: String(method) });
    Object.assign(target, { url: value.url, method: method.toUpperCase() });
  } else {
    if (typeof value.rpc !== "string" || !RPC.test(value.rpc)) {
      throw invalidParameter('target.rpc must be "cloudforet.<service>.v1.<Service>/<Method>"', { parameter: "target.rpc", value: String(value.rpc) });
    }
    if (value.method !== undefined && value.method !== null && value.method !== "" && String(value.method).toUpperCase() !== "POST") {
      throw invalidParameter("target.method of an rpc target is POST", { parameter: "target.method", value: String(value.method) });
    }
    rpcBaseUrl(value.rpc, serviceUrls);
    Object.assign(target, { rpc: value.rpc, method: "POST" });
  }
  const headers: Record<string, string> = {};
  const secrets: Record<string, string> = {};
  if (value.headers !== undefined && value.headers !== null) {
    if (!isObject(value.headers)) throw invalidParameter("target.headers must be an object of strings", { parameter: "target.headers" });
    for (const [name, v] of Object.entries(value.headers)) {
      if (typeof v !== "string") throw invalidParameter(`target.headers.${name} must be a string`, { parameter: `target.headers.${name}` });
      if (!/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/.test(name)) throw invalidParameter(`target.headers has an invalid name "${name}"`, { parameter: "target.headers" });
      (isCredentialHeader(name) ? secrets : headers)[name.toLowerCase()] = v;
    }
  }
  if (value.token !== undefined && value.token !== null && value.token !== "") {
    if (typeof value.token !== "string") throw invalidParameter("target.token must be a string", { parameter: "target.token" });
    secrets.authorization = `Bearer ${value.token}`;
  }
  const runAs = value.run_as_workspace_id;
  if (runAs !== undefined && runAs !== null && runAs !== "") {
    if (!hasRpc) throw invalidParameter("target.run_as_workspace_id is for rpc targets", { parameter: "target.run_as_workspace_id" });
    if (typeof runAs !== "string" || !WORKSPACE_ID.test(runAs)) throw invalidParameter("target.run_as_workspace_id must be a workspace id", { parameter: "target.run_as_workspace_id", value: String(runAs).slice(0, 64) });
    if (secrets.authorization) throw invalidParameter("target.run_as_workspace_id replaces token and the Authorization header: give one", { parameter: "target.run_as_workspace_id" });
    target.run_as_workspace_id = runAs;
  } else if (hasRpc && !secrets.authorization && callerAuthorization) secrets.authorization = callerAuthorization;
  target.headers = headers;
  if (value.json !== undefined) {
    if (Buffer.byteLength(JSON.stringify(value.json ?? null)) > MAX_BODY_BYTES) throw invalidParameter(`target.json must be at most ${MAX_BODY_BYTES} bytes`, { parameter: "target.json" });
    target.json = value.json;
  }
  target.sealed_headers = Object.keys(secrets).sort();
  return { target, secrets };
}

/** The base URL of the service an rpc names (CLOUDFORET_<SERVICE>_URL); INVALID_ARGUMENT when unset. */
export function rpcBaseUrl(rpc: string, serviceUrls: Record<string, string>): string {
  const service = RPC.exec(rpc)?.[1];
  if (!service) throw invalidParameter("target.rpc is malformed", { parameter: "target.rpc", value: rpc });
  const variable = `CLOUDFORET_${service.toUpperCase()}_URL`;
  const url = serviceUrls[variable] ?? serviceUrls[`${service.toUpperCase()}_URL`];
  if (!url) throw invalidParameter(`target.rpc: this engine has no ${variable} (or ${service.toUpperCase()}_URL)`, { parameter: "target.rpc", value: rpc });
  return url.replace(/\/+$/, "");
}

/** The first fire time after `after` (interval: on the grid of `anchor`; cron: the expression's). */
export function nextRunAfter(recurrence: Recurrence, anchor: Date, after: Date): Date | null {
  if (recurrence.scheduleType === "interval") {
    const step = recurrence.intervalSeconds * 1000;
    const elapsed = after.getTime() - anchor.getTime();
    const steps = elapsed < 0 ? 0 : Math.floor(elapsed / step) + 1;
    return new Date(anchor.getTime() + Math.max(1, steps) * step);
  }
  return nextFireAfter(parseCron(recurrence.cronExpression), recurrence.timezone, after) ?? null;
}
