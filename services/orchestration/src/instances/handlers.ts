import { toJson } from "@bufbuild/protobuf";
import { ValueSchema } from "@bufbuild/protobuf/wkt";
import { ConnectError, Code, type HandlerContext, type ServiceImpl } from "@connectrpc/connect";
import { invalidParameter, missingParameter } from "@cloudforet/errors";
import { InstanceService, TaskInstance_Priority, TaskInstance_State, type InstanceServiceCreateRequest } from "@cloudforet/proto/cloudforet/orchestration/v1/instance_pb";
import type { Database } from "@cloudforet/db";
import type { Owner } from "../access/tenants";
import { dateOf, ownerOf, scopeOf, ts } from "../grpc/grpc-mapping";
import { watchInstances } from "./instance-watch";
import { pageOf, type Instances, type NewInstance } from "./instances";
import type { InstanceState } from "./rules";
import type { StateChanges } from "./state-changes";
import { instanceMessage, outputMessage, stateEnum } from "./to-message";

function stateName(value: TaskInstance_State, parameter: string): InstanceState {
  const name = TaskInstance_State[value];
  if (name === undefined) throw invalidParameter(`${parameter} is not a state`, { parameter, value: String(value) });
  return name.toLowerCase() as InstanceState;
}

const priorityName = (value: TaskInstance_Priority) => TaskInstance_Priority[value]?.toLowerCase() ?? String(value);

type CreateFields = Omit<InstanceServiceCreateRequest, "$typeName" | "$unknown">;

function newInstanceOf(req: CreateFields, owner: Owner, at = ""): NewInstance {
  return {
    sequenceId: req.sequenceId,
    ...owner,
    namespace: req.namespace,
    priority: priorityName(req.priority),
    timezone: req.timezone,
    metadata: req.metadata,
    context: req.context,
    nextFireAt: dateOf(req.nextFireAt),
    concurrencyKey: req.concurrencyKey,
    maxConcurrency: req.maxConcurrency,
    idempotencyKey: req.idempotencyKey,
  };
}

/** What Watch streams from: the database (slow re-read) and the engine's state-change notifications. */
export interface WatchSources {
  db: Database;
  changes: StateChanges;
  rereadMs?: number;
}

export function instanceHandlers(instances: Instances, watch?: WatchSources): ServiceImpl<typeof InstanceService> {
  const scope = (ctx: HandlerContext) => scopeOf(ctx);
  const listArgs = (req: { tenantId: string; namespace?: string; sequenceId?: string; states: number[]; offset: number; limit: number }, ctx: HandlerContext) => ({
    filter: {
      ...scopeOf(ctx, req.tenantId),
      namespace: req.namespace || undefined,
      sequenceId: req.sequenceId || undefined,
      states: req.states.map((s) => stateName(s, "states")),
    },
    page: pageOf(req.offset, req.limit),
  });
  return {
    async create(req, ctx) {
      return instances.create(newInstanceOf(req, ownerOf(ctx, req.tenantId)));
    },
    async batchCreate(req, ctx) {
      return instances.batchCreate(req.instances.map((item, i) => newInstanceOf(item, ownerOf(ctx, item.tenantId, `instances[${i}].tenant_id`), `instances[${i}].`)));
    },
    async get(req, ctx) {
      return instanceMessage(await instances.get(req.id, scope(ctx)));
    },
    async list(req, ctx) {
      const { filter, page } = listArgs(req, ctx);
      const { results, totalCount } = await instances.list(filter, page, { withTotal: true });
      return { results: results.map(instanceMessage), totalCount };
    },
    async updateState(req, ctx) {
      if (req.state === undefined) throw missingParameter("state");
      return instanceMessage(await instances.updateState(req.id, stateName(req.state, "state"), dateOf(req.nextFireAt), scope(ctx)));
    },
    async updateContext(req, ctx) {
      return instanceMessage(await instances.updateContext(req.id, req.context ?? {}, scope(ctx)));
    },
    async sendSignal(req, ctx) {
      const payload = req.payload ? toJson(ValueSchema, req.payload) : null;
      return instances.sendSignal(req.id, req.signalType, payload, scope(ctx));
    },
    async getOutputs(req, ctx) {
      return { outputs: (await instances.outputs(req.id, scope(ctx))).map(outputMessage) };
    },
    async retry(req, ctx) {
      const result = await instances.retry(req.id, scope(ctx));
      return { id: result.id, state: stateEnum(result.state) };
    },
    async bulkUpdateState(req, ctx) {
      if (req.state === undefined) throw missingParameter("state");
      const filter = req.filter;
      return instances.bulkUpdateState(
        {
          ...ownerOf(ctx, filter?.tenantId, "filter.tenant_id"),
          namespace: filter?.namespace || undefined,
          sequenceId: filter?.sequenceId || undefined,
          states: (filter?.states ?? []).map((s) => stateName(s, "filter.states")),
        },
        stateName(req.state, "state"),
      );
    },
    async listDlq(req, ctx) {
      const { filter, page } = listArgs(req, ctx);
      const { results, totalCount } = await instances.list(filter, page, { withTotal: true, dlq: true });
      return { results: results.map(instanceMessage), totalCount };
    },
    async *watch(req, ctx) {
      if (!watch) throw new ConnectError("InstanceService.Watch is not available here", Code.Unimplemented);
      const request = {
        ...scopeOf(ctx, req.tenantId),
        ids: req.ids,
        namespace: req.namespace || undefined,
        sequenceId: req.sequenceId || undefined,
        states: req.states.map((s) => stateName(s, "states")),
      };
      for await (const change of watchInstances({ db: watch.db, instances, changes: watch.changes }, request, ctx.signal, { rereadMs: watch.rereadMs })) {
        yield {
          id: change.id,
          sequenceId: change.sequenceId,
          tenantId: change.tenantId,
          namespace: change.namespace,
          state: stateEnum(change.state),
          previousState: change.previousState === undefined ? undefined : stateEnum(change.previousState),
          nextFireAt: ts(change.nextFireAt ? new Date(change.nextFireAt) : null),
          updatedAt: ts(new Date(change.updatedAt)),
          initial: change.initial,
        };
      }
    },
  };
}
