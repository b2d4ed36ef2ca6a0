import { toJson } from "@bufbuild/protobuf";
import { ValueSchema, type Value } from "@bufbuild/protobuf/wkt";
import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import {
  Recurrence_ScheduleType,
  RecurrentRequest_Status,
  RecurrentRequestService,
  type Recurrence,
  type RecurrentRequestTarget,
} from "@cloudforet/proto/cloudforet/orchestration/v1/recurrent_request_pb";
import { ownerOf, scopeOf } from "../grpc/grpc-mapping";
import { pageOf } from "../instances/instances";
import type { RecurrentRequests } from "./recurrent-requests";
import { recurrentMessage } from "./to-message";

type TargetFields = Omit<RecurrentRequestTarget, "$typeName" | "$unknown">;
type RecurrenceFields = Omit<Recurrence, "$typeName" | "$unknown">;

/** The message's recurrence → the REST shape the domain validates (names the same parameters). */
function recurrenceInput(r: RecurrenceFields | undefined): unknown {
  if (!r) return undefined;
  const type = Recurrence_ScheduleType[r.scheduleType]?.toLowerCase() ?? String(r.scheduleType);
  return type === "interval" ? { schedule_type: type, interval_seconds: r.intervalSeconds } : { schedule_type: type, cron_expression: r.cronExpression, timezone: r.timezone };
}

function targetInput(t: TargetFields | undefined): unknown {
  if (!t) return undefined;
  return {
    url: t.url || undefined,
    rpc: t.rpc || undefined,
    method: t.method || undefined,
    headers: t.headers,
    json: t.json ? toJson(ValueSchema, t.json as Value) : undefined,
    token: t.token || undefined,
    run_as_workspace_id: t.runAsWorkspaceId || undefined,
  };
}

const statusInput = (s: RecurrentRequest_Status | undefined) => (s === undefined ? undefined : (RecurrentRequest_Status[s]?.toLowerCase() ?? String(s)));

const authorizationOf = (ctx: HandlerContext) => ctx.requestHeader.get("authorization") ?? undefined;

/** RecurrentRequestService: the caller's domain is the tenant. */
export function recurrentRequestHandlers(requests: RecurrentRequests): ServiceImpl<typeof RecurrentRequestService> {
  const scope = (ctx: HandlerContext) => scopeOf(ctx);
  return {
    async create(req, ctx) {
      const row = await requests.create({
        ...ownerOf(ctx, req.tenantId),
        name: req.name,
        recurrence: recurrenceInput(req.recurrence),
        target: targetInput(req.target),
        status: statusInput(req.status),
        callerAuthorization: authorizationOf(ctx),
      });
      return recurrentMessage(row);
    },
    async get(req, ctx) {
      return recurrentMessage(await requests.get(req.id, scope(ctx)));
    },
    async list(req, ctx) {
      const { results, totalCount } = await requests.list({ ...scopeOf(ctx, req.tenantId), status: statusInput(req.status), name: req.name }, pageOf(req.offset, req.limit));
      return { results: results.map(recurrentMessage), totalCount };
    },
    async update(req, ctx) {
      const row = await requests.update(
        req.id,
        { name: req.name, recurrence: recurrenceInput(req.recurrence), target: targetInput(req.target), status: statusInput(req.status), callerAuthorization: authorizationOf(ctx) },
        scope(ctx),
      );
      return recurrentMessage(row);
    },
    async trigger(req, ctx) {
      return { instanceId: await requests.trigger(req.id, scope(ctx)) };
    },
    async delete(req, ctx) {
      await requests.delete(req.id, scope(ctx));
      return {};
    },
  };
}
