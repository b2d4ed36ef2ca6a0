import { invalidParameter } from "@cloudforet/errors";
import type { CronSchedules } from "./cron-schedules";
import type { CronScheduleRow } from "../db/schema";
import { pageOf } from "../instances/instances";
import { timestampJson } from "../rest/rest-json";
import type { RestRouter } from "../rest/rest-server";
import { objectBody, text, type Secured } from "../rest/route-kit";

/** Seed 002's CronSchedule. */
export function cronJson(row: CronScheduleRow) {
  return {
    id: row.id,
    tenant_id: row.tenantId,
    namespace: row.namespace,
    sequence_id: row.sequenceId,
    cron_expr: row.cronExpr,
    timezone: row.timezone,
    enabled: row.enabled,
    metadata: row.metadata,
    last_triggered_at: timestampJson(row.lastTriggeredAt),
    next_fire_at: timestampJson(row.nextFireAt),
    created_at: timestampJson(row.createdAt),
    updated_at: timestampJson(row.updatedAt),
  };
}

function booleanQuery(value: string | null, parameter: string): boolean | undefined {
  if (value === null || value === "") return undefined;
  if (value === "true") return true;
  if (value === "false") return false;
  throw invalidParameter(`${parameter} must be true or false`, { parameter, value });
}

/** Seed 002 §Cron Schedules: POST/GET/PUT/DELETE /cron. */
export function cronRoutes(router: RestRouter, cron: CronSchedules, secured: Secured): void {
  router
    .on(
      "POST",
      "/cron",
      secured("CronService.Create", async (req, a) => {
        const body = await objectBody(req);
        const row = await cron.create({
          ...a.owner(body.tenant_id),
          namespace: body.namespace,
          sequenceId: body.sequence_id,
          cronExpr: body.cron_expr,
          timezone: body.timezone,
          metadata: body.metadata,
          enabled: body.enabled,
        });
        return { status: 201, body: { id: row.id, next_fire_at: timestampJson(row.nextFireAt) } };
      }),
    )
    .on(
      "GET",
      "/cron",
      secured("CronService.List", async (req, a) => {
        const q = req.query;
        const { results } = await cron.list(
          { ...a.ownerScope(q.get("tenant_id")), namespace: text(q.get("namespace")), sequenceId: text(q.get("sequence_id")), enabled: booleanQuery(q.get("enabled"), "enabled") },
          pageOf(q.get("offset"), q.get("limit")),
        );
        return { status: 200, body: results.map(cronJson) };
      }),
    )
    .on(
      "GET",
      "/cron/:id",
      secured("CronService.Get", async (req, a) => ({ status: 200, body: cronJson(await cron.get(req.params.id, a.ownerScope(req.query.get("tenant_id")))) })),
    )
    .on(
      "PUT",
      "/cron/:id",
      secured("CronService.Update", async (req, a) => {
        const body = await objectBody(req);
        const row = await cron.update(req.params.id, { cronExpr: body.cron_expr, timezone: body.timezone, enabled: body.enabled, metadata: body.metadata }, a.ownerScope(req.query.get("tenant_id")));
        return { status: 200, body: cronJson(row) };
      }),
    )
    .on(
      "DELETE",
      "/cron/:id",
      secured("CronService.Delete", async (req, a) => {
        await cron.delete(req.params.id, a.ownerScope(req.query.get("tenant_id")));
        return { status: 204 };
      }),
    );
}
