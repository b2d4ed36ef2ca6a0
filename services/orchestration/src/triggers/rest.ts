import { invalidParameter } from "@cloudforet/errors";
import type { TriggerRow } from "../db/schema";
import { pageOf } from "../instances/instances";
import type { Triggers } from "./triggers";
import { timestampJson } from "../rest/rest-json";
import type { RestRouter } from "../rest/rest-server";
import { objectBody, text, type Secured } from "../rest/route-kit";

/** A Trigger as JSON (the proto's field names). */
export function triggerJson(row: TriggerRow) {
  return {
    slug: row.slug,
    tenant_id: row.tenantId,
    namespace: row.namespace,
    sequence_id: row.sequenceId,
    sequence_name: row.sequenceName,
    enabled: row.enabled,
    trigger_type: row.triggerType,
    created_at: timestampJson(row.createdAt),
    updated_at: timestampJson(row.updatedAt),
  };
}

function typeOf(value: unknown): "webhook" | "event" | undefined {
  if (value === undefined || value === null || value === "") return undefined;
  if (value === "webhook" || value === "event") return value;
  throw invalidParameter('trigger_type must be "webhook" or "event"', { parameter: "trigger_type", value: String(value) });
}

function optionalBoolean(value: unknown, parameter: string): boolean | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === "boolean") return value;
  if (value === "true" || value === "false") return value === "true";
  throw invalidParameter(`${parameter} must be a boolean`, { parameter, value: String(value) });
}

function optionalString(value: unknown, parameter: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "string") throw invalidParameter(`${parameter} must be a string`, { parameter });
  return value;
}

function optionalObject(value: unknown, parameter: string): Record<string, unknown> | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "object" || Array.isArray(value)) throw invalidParameter(`${parameter} must be an object`, { parameter });
  return value as Record<string, unknown>;
}

/** Trigger CRUD and fire over REST (the seed names no paths; these follow TriggerService). */
export function triggerRoutes(router: RestRouter, triggers: Triggers, secured: Secured): void {
  router
    .on(
      "POST",
      "/triggers",
      secured("TriggerService.Create", async (req, a) => {
        const body = await objectBody(req);
        const row = await triggers.create({
          slug: body.slug as string,
          ...a.owner(body.tenant_id),
          namespace: body.namespace as string,
          sequenceId: optionalString(body.sequence_id, "sequence_id") || undefined,
          sequenceName: optionalString(body.sequence_name, "sequence_name") || undefined,
          enabled: optionalBoolean(body.enabled, "enabled"),
          triggerType: typeOf(body.trigger_type),
        });
        return { status: 201, body: triggerJson(row) };
      }),
    )
    .on(
      "GET",
      "/triggers",
      secured("TriggerService.List", async (req, a) => {
        const q = req.query;
        const { results } = await triggers.list(
          {
            ...a.ownerScope(q.get("tenant_id")),
            namespace: text(q.get("namespace")),
            sequenceId: text(q.get("sequence_id")),
            triggerType: typeOf(q.get("trigger_type")),
            enabled: optionalBoolean(q.get("enabled") ?? undefined, "enabled"),
          },
          pageOf(q.get("offset"), q.get("limit")),
        );
        return { status: 200, body: results.map(triggerJson) };
      }),
    )
    .on(
      "GET",
      "/triggers/:slug",
      secured("TriggerService.Get", async (req, a) => ({ status: 200, body: triggerJson(await triggers.get(a.owner(req.query.get("tenant_id")), req.params.slug)) })),
    )
    .on(
      "PUT",
      "/triggers/:slug",
      secured("TriggerService.Update", async (req, a) => {
        const body = await objectBody(req);
        const row = await triggers.update(a.owner(body.tenant_id), req.params.slug, {
          namespace: optionalString(body.namespace, "namespace"),
          sequenceId: optionalString(body.sequence_id, "sequence_id") || undefined,
          sequenceName: optionalString(body.sequence_name, "sequence_name") || undefined,
          enabled: optionalBoolean(body.enabled, "enabled"),
          triggerType: typeOf(body.trigger_type),
        });
        return { status: 200, body: triggerJson(row) };
      }),
    )
    .on(
      "DELETE",
      "/triggers/:slug",
      secured("TriggerService.Delete", async (req, a) => {
        await triggers.delete(a.owner(req.query.get("tenant_id")), req.params.slug);
        return { status: 204 };
      }),
    )
    .on(
      "POST",
      "/triggers/:slug/fire",
      secured("TriggerService.Fire", async (req, a) => {
        const body = await objectBody(req);
        const result = await triggers.fireNow({
          ...a.owner(body.tenant_id),
          slug: req.params.slug,
          data: optionalObject(body.data, "data"),
          meta: optionalObject(body.meta, "meta"),
          dedupeKey: body.dedupe_key as string | undefined,
          dedupeScope: optionalString(body.dedupe_scope, "dedupe_scope") || undefined,
          parentInstanceId: optionalString(body.parent_instance_id, "parent_instance_id"),
        });
        return { status: 201, body: { instance_id: result.instanceId, sequence_name: result.sequenceName, deduped: result.deduped } };
      }),
    );
}
