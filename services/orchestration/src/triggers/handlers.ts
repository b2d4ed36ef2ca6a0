import type { ServiceImpl } from "@connectrpc/connect";
import { Trigger_TriggerType, TriggerService } from "@cloudforet/proto/cloudforet/orchestration/v1/trigger_pb";
import { invalidParameter, missingParameter } from "@cloudforet/errors";
import { ownerOf, scopeOf } from "../grpc/grpc-mapping";
import { pageOf } from "../instances/instances";
import { triggerMessage } from "./to-message";
import type { Triggers } from "./triggers";

const typeName = (type: Trigger_TriggerType | undefined): "webhook" | "event" | undefined =>
  type === undefined ? undefined : type === Trigger_TriggerType.WEBHOOK ? "webhook" : type === Trigger_TriggerType.EVENT ? "event" : badType(type);

function badType(type: number): never {
  throw invalidParameter("trigger_type is not a trigger type", { parameter: "trigger_type", value: String(type) });
}

const given = (value: string | undefined) => (value === undefined || value === "" ? undefined : value);

/** TriggerService: the caller's domain is the tenant. */
export function triggerHandlers(triggers: Triggers): ServiceImpl<typeof TriggerService> {
  return {
    async create(req, ctx) {
      const row = await triggers.create({
        slug: req.slug,
        ...ownerOf(ctx, req.tenantId),
        namespace: req.namespace,
        sequenceId: req.sequenceId || undefined,
        sequenceName: req.sequenceName || undefined,
        enabled: req.enabled,
        triggerType: typeName(req.triggerType),
      });
      return triggerMessage(row);
    },
    async get(req, ctx) {
      return triggerMessage(await triggers.get(ownerOf(ctx, req.tenantId), req.slug));
    },
    async list(req, ctx) {
      const { results, totalCount } = await triggers.list(
        {
          ...scopeOf(ctx, req.tenantId),
          namespace: given(req.namespace),
          sequenceId: given(req.sequenceId),
          triggerType: typeName(req.triggerType),
          enabled: req.enabled,
        },
        pageOf(req.offset, req.limit),
        true,
      );
      return { results: results.map(triggerMessage), totalCount };
    },
    async update(req, ctx) {
      const row = await triggers.update(ownerOf(ctx, req.tenantId), req.slug, {
        namespace: req.namespace,
        sequenceId: given(req.sequenceId),
        sequenceName: given(req.sequenceName),
        enabled: req.enabled,
        triggerType: typeName(req.triggerType),
      });
      return triggerMessage(row);
    },
    async delete(req, ctx) {
      await triggers.delete(ownerOf(ctx, req.tenantId), req.slug);
      return {};
    },
    async fire(req, ctx) {
      if (!req.slug) throw missingParameter("slug");
      return triggers.fireNow({
        ...ownerOf(ctx, req.tenantId),
        slug: req.slug,
        data: req.data,
        meta: req.meta,
        dedupeKey: req.dedupeKey,
        dedupeScope: req.dedupeScope || undefined,
        parentInstanceId: req.parentInstanceId,
      });
    },
  };
}
