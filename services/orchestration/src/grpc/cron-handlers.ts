import type { JsonObject } from "@bufbuild/protobuf";
import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import { CronService } from "@cloudforet/proto/cloudforet/orchestration/v1/cron_pb";
import type { CronSchedules } from "../cron/cron-schedules";
import type { CronScheduleRow } from "../db/schema";
import { pageOf } from "../instances/instances";
import { tenantOf, ts } from "./grpc-mapping";

export function cronMessage(row: CronScheduleRow) {
  return {
    id: row.id,
    tenantId: row.tenantId,
    namespace: row.namespace,
    sequenceId: row.sequenceId,
    cronExpr: row.cronExpr,
    timezone: row.timezone,
    enabled: row.enabled,
    metadata: row.metadata as JsonObject,
    lastTriggeredAt: ts(row.lastTriggeredAt),
    nextFireAt: ts(row.nextFireAt),
    createdAt: ts(row.createdAt),
    updatedAt: ts(row.updatedAt),
  };
}

/** CronService: the caller's domain is the tenant, as for the other services of this package. */
export function cronHandlers(cron: CronSchedules): ServiceImpl<typeof CronService> {
  const scope = (ctx: HandlerContext) => tenantOf(ctx, undefined);
  return {
    async create(req, ctx) {
      const row = await cron.create({
        tenantId: tenantOf(ctx, req.tenantId),
        namespace: req.namespace,
        sequenceId: req.sequenceId,
        cronExpr: req.cronExpr,
        timezone: req.timezone,
        metadata: req.metadata,
        enabled: req.enabled,
      });
      return { id: row.id, nextFireAt: ts(row.nextFireAt) };
    },
    async get(req, ctx) {
      return cronMessage(await cron.get(req.id, scope(ctx)));
    },
    async list(req, ctx) {
      const { results, totalCount } = await cron.list(
        { tenantId: tenantOf(ctx, req.tenantId), namespace: req.namespace || undefined, sequenceId: req.sequenceId || undefined, enabled: req.enabled },
        pageOf(req.offset, req.limit),
        true,
      );
      return { results: results.map(cronMessage), totalCount };
    },
    async update(req, ctx) {
      return cronMessage(await cron.update(req.id, { cronExpr: req.cronExpr, timezone: req.timezone, enabled: req.enabled, metadata: req.metadata }, scope(ctx)));
    },
    async delete(req, ctx) {
      await cron.delete(req.id, scope(ctx));
      return {};
    },
  };
}
