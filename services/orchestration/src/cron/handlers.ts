import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import { CronService } from "@cloudforet/proto/cloudforet/orchestration/v1/cron_pb";
import { ownerOf, scopeOf, ts } from "../grpc/grpc-mapping";
import { pageOf } from "../instances/instances";
import type { CronSchedules } from "./cron-schedules";
import { cronMessage } from "./to-message";

/** CronService: the caller's domain is the tenant, as for the other services of this package. */
export function cronHandlers(cron: CronSchedules): ServiceImpl<typeof CronService> {
  const scope = (ctx: HandlerContext) => scopeOf(ctx);
  return {
    async create(req, ctx) {
      const row = await cron.create({
        ...ownerOf(ctx, req.tenantId),
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
        { ...scopeOf(ctx, req.tenantId), namespace: req.namespace || undefined, sequenceId: req.sequenceId || undefined, enabled: req.enabled },
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
