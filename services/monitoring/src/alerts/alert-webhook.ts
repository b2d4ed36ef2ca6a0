import type { Database } from "@cloudforet/db";
import { authenticateFailure, invalidParameter, missingParameter, notFound, payloadTooLarge, PlatformError } from "@cloudforet/errors";
import { isStorableText, tenantScope } from "@cloudforet/query";
import { sendJson, sendTaxonomyError, type Caller, type HttpHandler, type HttpRequest } from "@cloudforet/runtime";
import type { Logger } from "pino";
import type { AlertSource } from "../db/schema";
import type { EscalationPolicyRepository } from "../escalation-policies/repository";
import { writeWorkspace } from "../metrics/metrics";
import { channelList } from "./alert-fields";
import { fingerprintOf, RESOURCE_LABEL, severityOf } from "./alerts";
import { AlertRepository, noticeAlertingChanged, type RaisedAlert } from "./repository";
import { WEBHOOK_KEY_PREFIX, type WebhookKeyRepository } from "./webhook-keys";

export const ALERT_WEBHOOK_PATH = "/api/v1/alerts/webhook";
/** Alerts per payload at most (Alertmanager groups stay far below). */
export const MAX_WEBHOOK_ALERTS = 1000;
const MAX_LABELS = 100;

/** Who posts, and where their alerts go. */
interface WebhookTarget {
  domainId: string;
  workspaceId: string;
  channels: string[];
  escalationPolicyId: string;
}

/** One alert of a payload, in either format. */
interface IncomingAlert {
  status: "firing" | "resolved";
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt?: Date;
  endsAt?: Date;
  fingerprint: string;
  title: string;
  description: string;
  severity?: string;
}

export interface AlertWebhookDeps {
  db: Database;
  webhookKeys: WebhookKeyRepository;
  policies: EscalationPolicyRepository;
  /** Verifies a platform token (`Authorization: Bearer <JWT>`). */
  authenticate(authorization: string | undefined): Promise<Caller>;
  maxRequestBytes: number;
  domain: string;
  afterCommit(): void;
  logger: Logger;
}

/**
 * `POST /api/v1/alerts/webhook`: Prometheus Alertmanager's webhook payload (version "4": status,
 * receiver, groupKey, alerts[] with status/labels/annotations/startsAt/endsAt/fingerprint) or a
 * generic JSON alert ({title, description, severity, status, labels, annotations, fingerprint}, or
 * {alerts: [...]} of them). Firing alerts are raised, deduplicated by fingerprint (a repeat updates
 * the open alert); resolved ones resolve it. Authenticated by `Authorization: Bearer <key>` with a
 * webhook key (AlertService.CreateWebhookKey: its workspace and channels) or a platform token
 * (then `?workspace_id=` and `?channels=a,b` say where, as for any write).
 */
export function alertWebhook(deps: AlertWebhookDeps): HttpHandler {
  return async (req, res) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    if (url.pathname !== ALERT_WEBHOOK_PATH) return false;
    try {
      if (req.method !== "POST") {
        sendJson(res, 405, { error: "method not allowed" }, { allow: "POST" });
        return true;
      }
      const target = await targetOf(deps, req, url);
      const incoming = parsePayload(await readBody(req, deps.maxRequestBytes));
      const source: AlertSource = incoming.alertmanager ? "ALERTMANAGER" : "WEBHOOK";
      const outcome = await deps.db.transaction(async (tx) => {
        const counts = { created: 0, updated: 0, resolved: 0, alert_ids: [] as string[] };
        for (const alert of incoming.alerts) {
          if (alert.status === "resolved") {
            const id = await AlertRepository.resolveFingerprint(tx, target.domainId, target.workspaceId, alert.fingerprint, alert.endsAt ?? new Date(), "");
            if (id) {
              counts.resolved++;
              counts.alert_ids.push(id);
            }
            continue;
          }
          const raised = await AlertRepository.raise(tx, toRaised(alert, source, target));
          counts[raised.created ? "created" : "updated"]++;
          counts.alert_ids.push(raised.alertId);
        }
        if (counts.created + counts.resolved > 0) await noticeAlertingChanged(tx);
        return counts;
      });
      deps.afterCommit();
      deps.logger.info({ source, domain_id: target.domainId, workspace_id: target.workspaceId, created: outcome.created, updated: outcome.updated, resolved: outcome.resolved }, "alert webhook received");
      sendJson(res, 200, outcome);
    } catch (err) {
      if (!(err instanceof PlatformError)) throw err;
      sendTaxonomyError(res, err, deps.domain);
    }
    return true;
  };
}

async function targetOf(deps: AlertWebhookDeps, req: HttpRequest, url: URL): Promise<WebhookTarget> {
  const header = req.headers.authorization;
  const authorization = Array.isArray(header) ? header[0] : header;
  const token = authorization?.match(/^Bearer\s+(\S+)$/i)?.[1];
  if (token?.startsWith(WEBHOOK_KEY_PREFIX)) {
    const key = await deps.webhookKeys.verify(token);
    if (!key) throw authenticateFailure("Unknown or revoked webhook key");
    return { domainId: key.domainId, workspaceId: key.workspaceId, channels: key.channels, escalationPolicyId: key.escalationPolicyId };
  }
  const caller = await deps.authenticate(authorization);
  const workspaceId = writeWorkspace(caller, url.searchParams.get("workspace_id") ?? "");
  const channels = channelList((url.searchParams.get("channels") ?? "").split(",").filter(Boolean));
  const escalationPolicyId = url.searchParams.get("escalation_policy_id") ?? "";
  if (escalationPolicyId && !(await deps.policies.get(tenantScope(caller), escalationPolicyId))) {
    throw notFound("Escalation policy not found", { escalation_policy_id: escalationPolicyId });
  }
  return { domainId: caller.domainId, workspaceId, channels, escalationPolicyId };
}

async function readBody(req: HttpRequest, maxBytes: number): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) throw payloadTooLarge(`The body is larger than ${maxBytes} bytes`, { parameter: "body" });
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString("utf8");
  if (!text.trim()) throw missingParameter("body");
  try {
    return JSON.parse(text);
  } catch {
    throw invalidParameter("The body is not valid JSON", { parameter: "body" });
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** Reads either format; ERROR_INVALID_PARAMETER names the first field at fault (`alerts[2].labels`). */
export function parsePayload(body: unknown): { alertmanager: boolean; alerts: IncomingAlert[] } {
  if (!isObject(body)) throw invalidParameter("The body must be a JSON object", { parameter: "body" });
  const alertmanager = Array.isArray(body.alerts) && (body.version !== undefined || body.groupKey !== undefined || body.receiver !== undefined);
  const items = Array.isArray(body.alerts) ? body.alerts : [body];
  if (items.length === 0) throw invalidParameter("alerts must hold at least one alert", { parameter: "alerts" });
  if (items.length > MAX_WEBHOOK_ALERTS) throw payloadTooLarge(`At most ${MAX_WEBHOOK_ALERTS} alerts per payload`, { parameter: "alerts", value: items.length });
  if (alertmanager && body.version !== undefined && body.version !== "4") throw invalidParameter('Alertmanager payload version must be "4"', { parameter: "version", value: String(body.version) });
  const groupStatus = typeof body.status === "string" ? body.status : undefined;
  return { alertmanager, alerts: items.map((item, i) => parseAlert(item, Array.isArray(body.alerts) ? `alerts[${i}]` : "", groupStatus)) };
}

function parseAlert(item: unknown, at: string, groupStatus: string | undefined): IncomingAlert {
  const field = (name: string) => (at ? `${at}.${name}` : name);
  if (!isObject(item)) throw invalidParameter("An alert must be a JSON object", { parameter: at || "body" });
  const labels = stringMap(item.labels, field("labels"));
  const annotations = stringMap(item.annotations, field("annotations"));
  const status = text(item.status, field("status"), 16) || (at ? groupStatus : undefined) || "firing";
  if (status !== "firing" && status !== "resolved") throw invalidParameter('status must be "firing" or "resolved"', { parameter: field("status"), value: status });
  const title = text(item.title, field("title"), 255) || labels.alertname || annotations.summary || "";
  if (!title) throw invalidParameter("An alert needs a title or an alertname label", { parameter: field("title") });
  const fingerprint = text(item.fingerprint, field("fingerprint"), 128) || fingerprintOf(Object.keys(labels).length > 0 ? labels : { title });
  return {
    status,
    labels,
    annotations,
    startsAt: instant(item.startsAt, field("startsAt")),
    endsAt: instant(item.endsAt, field("endsAt")),
    fingerprint,
    title,
    description: text(item.description, field("description"), 10_000) || annotations.description || annotations.summary || "",
    severity: text(item.severity, field("severity"), 32) || labels.severity,
  };
}

function text(value: unknown, parameter: string, max: number): string {
  if (value === undefined || value === null) return "";
  if (typeof value !== "string" || value.length > max || !isStorableText(value)) throw invalidParameter(`${parameter} must be a string of at most ${max} characters`, { parameter });
  return value;
}

function stringMap(value: unknown, parameter: string): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (!isObject(value)) throw invalidParameter(`${parameter} must be an object of strings`, { parameter });
  const entries = Object.entries(value);
  if (entries.length > MAX_LABELS) throw invalidParameter(`${parameter} holds at most ${MAX_LABELS} entries`, { parameter });
  for (const [key, v] of entries) {
    if (!key || key.length > 128 || !isStorableText(key)) throw invalidParameter(`${parameter} keys are 1-128 characters`, { parameter });
    text(v, `${parameter}.${key}`, 4096);
    if (typeof v !== "string") throw invalidParameter(`${parameter} values must be strings`, { parameter: `${parameter}.${key}` });
  }
  return value as Record<string, string>;
}

/** An RFC 3339 time; Alertmanager's zero time ("0001-01-01T00:00:00Z") reads as absent. */
function instant(value: unknown, parameter: string): Date | undefined {
  const raw = text(value, parameter, 64);
  if (!raw || raw.startsWith("0001-01-01")) return undefined;
  const at = new Date(raw);
  if (!Number.isFinite(at.getTime())) throw invalidParameter(`${parameter} is not an RFC 3339 time`, { parameter, value: raw });
  return at;
}

function toRaised(alert: IncomingAlert, source: AlertSource, target: WebhookTarget): RaisedAlert {
  return {
    domainId: target.domainId,
    workspaceId: target.workspaceId,
    fingerprint: alert.fingerprint,
    title: alert.title,
    description: alert.description,
    severity: severityOf(alert.severity),
    source,
    labels: alert.labels,
    annotations: alert.annotations,
    resourceId: alert.labels[RESOURCE_LABEL] ?? alert.labels.instance_id ?? "",
    startsAt: alert.startsAt ?? new Date(),
    channels: target.channels,
    escalationPolicyId: target.escalationPolicyId,
  };
}
