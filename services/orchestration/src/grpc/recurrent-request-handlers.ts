import { fromJson, toJson, type JsonValue } from "@bufbuild/protobuf";
import { ValueSchema, type Value } from "@bufbuild/protobuf/wkt";
import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import {
  Recurrence_ScheduleType,
  RecurrentRequest_Status,
  RecurrentRequestService,
  type Recurrence,
  type RecurrentRequestTarget,
} from "@cloudforet/proto/cloudforet/orchestration/v1/recurrent_request_pb";
import type { RecurrentRequestRow } from "../db/schema";
import { pageOf } from "../instances/instances";
import { recurrenceOfRow, type RecurrentRequests } from "../recurrent/recurrent-requests";
import { tenantOf, ts } from "./grpc-mapping";

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
  };
}

const statusInput = (s: RecurrentRequest_Status | undefined) => (s === undefined ? undefined : (RecurrentRequest_Status[s]?.toLowerCase() ?? String(s)));

export function recurrentMessage(row: RecurrentRequestRow) {
  const r = recurrenceOfRow(row);
  const target = row.target as { url?: string; rpc?: string; method?: string; headers?: Record<string, string>; json?: JsonValue; sealed_headers?: string[] };
  return {
    id: row.id,
    tenantId: row.tenantId,
    name: row.name,
    recurrence:
      r.scheduleType === "interval"
        ? { scheduleType: Recurrence_ScheduleType.INTERVAL, intervalSeconds: r.intervalSeconds }
        : { scheduleType: Recurrence_ScheduleType.CRON, cronExpression: r.cronExpression, timezone: r.timezone },
    target: {
      url: target.url ?? "",
      rpc: target.rpc ?? "",
      method: target.method ?? "",
      headers: target.headers ?? {},
      json: target.json === undefined ? undefined : fromJson(ValueSchema, target.json),
      sealedHeaders: target.sealed_headers ?? [],
    },
    status: row.status === "paused" ? RecurrentRequest_Status.PAUSED : RecurrentRequest_Status.ACTIVE,
    nextRunAt: ts(row.nextRunAt),
    lastRunAt: ts(row.lastRunAt),
    lastInstanceId: row.lastInstanceId ?? "",
    runCount: row.runCount,
    createdAt: ts(row.createdAt),
    updatedAt: ts(row.updatedAt),
  };
}

const authorizationOf = (ctx: HandlerContext) => ctx.requestHeader.get("authorization") ?? undefined;

/** RecurrentRequestService: the caller's domain is the tenant. */
export function recurrentRequestHandlers(requests: RecurrentRequests): ServiceImpl<typeof RecurrentRequestService> {
  const scope = (ctx: HandlerContext) => tenantOf(ctx, undefined);
  return {
    async create(req, ctx) {
      const row = await requests.create({
        tenantId: tenantOf(ctx, req.tenantId),
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
      const { results, totalCount } = await requests.list({ tenantId: tenantOf(ctx, req.tenantId), status: statusInput(req.status), name: req.name }, pageOf(req.offset, req.limit));
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
