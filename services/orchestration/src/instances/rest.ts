import { invalidParameter } from "@cloudforet/errors";
import type { BlockOutputRow, InstanceRow } from "../db/schema";
import { optionalTime } from "../rest/rest-input";
import { timestampJson } from "../rest/rest-json";
import type { RestRequest, RestRouter } from "../rest/rest-server";
import { isObject, objectBody, text, type Access, type Owner, type Secured } from "../rest/route-kit";
import { pageOf, type Instances, type NewInstance } from "./instances";
import { parseState, type InstanceState } from "./rules";

/** Seed 002's TaskInstance. */
export function instanceJson(row: InstanceRow) {
  return {
    id: row.id,
    sequence_id: row.sequenceId,
    tenant_id: row.tenantId,
    namespace: row.namespace,
    state: row.state,
    next_fire_at: timestampJson(row.nextFireAt),
    priority: row.priority,
    timezone: row.timezone,
    metadata: row.metadata,
    context: row.context,
    concurrency_key: row.concurrencyKey,
    max_concurrency: row.maxConcurrency,
    idempotency_key: row.idempotencyKey,
    created_at: timestampJson(row.createdAt),
    updated_at: timestampJson(row.updatedAt),
  };
}

export function outputJson(row: BlockOutputRow) {
  return {
    id: row.id,
    instance_id: row.instanceId,
    block_id: row.blockId,
    output: row.output,
    output_ref: row.outputRef,
    output_size: row.outputSize,
    attempt: row.attempt,
    created_at: timestampJson(row.createdAt),
  };
}

function statesOf(value: unknown, parameter: string): InstanceState[] | undefined {
  if (value === undefined || value === null || value === "") return undefined;
  const list = Array.isArray(value) ? value : String(value).split(",");
  return list.map((s) => parseState(typeof s === "string" ? s.trim() : s, parameter));
}

/** Seed 002's request body of Create Instance → the domain's input. */
function newInstanceOf(body: Record<string, unknown>, owner: Owner, at = ""): NewInstance {
  return {
    sequenceId: body.sequence_id,
    ...owner,
    namespace: body.namespace,
    priority: body.priority,
    timezone: body.timezone,
    metadata: body.metadata,
    context: body.context,
    nextFireAt: optionalTime(body.next_fire_at, `${at}next_fire_at`),
    concurrencyKey: body.concurrency_key,
    maxConcurrency: body.max_concurrency,
    idempotencyKey: body.idempotency_key,
  };
}

/** Seed 002's Instances section. */
export function instanceRoutes(router: RestRouter, instances: Instances, secured: Secured): void {
  const listQuery = (req: RestRequest, a: Access) => {
    const q = req.query;
    return {
      filter: { ...a.ownerScope(q.get("tenant_id")), namespace: text(q.get("namespace")), sequenceId: text(q.get("sequence_id")), states: statesOf(q.get("state") ?? q.get("states"), "state") },
      page: pageOf(q.get("offset"), q.get("limit")),
    };
  };

  router
    .on(
      "POST",
      "/instances",
      secured("InstanceService.Create", async (req, a) => {
        const body = await objectBody(req);
        const created = await instances.create(newInstanceOf(body, a.owner(body.tenant_id)));
        return { status: 201, body: { id: created.id, deduplicated: created.deduplicated } };
      }),
    )
    .on(
      "POST",
      "/instances/batch",
      secured("InstanceService.BatchCreate", async (req, a) => {
        const body = await objectBody(req);
        if (!Array.isArray(body.instances)) throw invalidParameter("instances must be an array", { parameter: "instances" });
        const items = body.instances.map((item, i) => {
          if (!isObject(item)) throw invalidParameter(`instances[${i}] must be an object`, { parameter: `instances[${i}]` });
          return newInstanceOf(item, a.owner(item.tenant_id, `instances[${i}].tenant_id`), `instances[${i}].`);
        });
        return { status: 201, body: await instances.batchCreate(items) };
      }),
    )
    .on(
      "GET",
      "/instances",
      secured("InstanceService.List", async (req, a) => {
        const { filter, page } = listQuery(req, a);
        const { results } = await instances.list(filter, page);
        return { status: 200, body: results.map(instanceJson) };
      }),
    )
    .on(
      "GET",
      "/instances/dlq",
      secured("InstanceService.ListDlq", async (req, a) => {
        const { filter, page } = listQuery(req, a);
        const { results } = await instances.list(filter, page, { dlq: true });
        return { status: 200, body: results.map(instanceJson) };
      }),
    )
    .on(
      "PATCH",
      "/instances/bulk/state",
      secured("InstanceService.BulkUpdateState", async (req, a) => {
        const body = await objectBody(req);
        const filter = isObject(body.filter) ? body.filter : {};
        if (body.state === undefined || body.state === null) throw invalidParameter("Missing required field: state", { parameter: "state" });
        const to = parseState(body.state, "state");
        const result = await instances.bulkUpdateState(
          { ...a.owner(filter.tenant_id, "filter.tenant_id"), namespace: text(filter.namespace), sequenceId: text(filter.sequence_id), states: statesOf(filter.states, "filter.states") },
          to,
        );
        return { status: 200, body: result };
      }),
    )
    .on(
      "GET",
      "/instances/:id",
      secured("InstanceService.Get", async (req, a) => ({ status: 200, body: instanceJson(await instances.get(req.params.id, a.ownerScope(req.query.get("tenant_id")))) })),
    )
    .on(
      "PATCH",
      "/instances/:id/state",
      secured("InstanceService.UpdateState", async (req, a) => {
        const body = await objectBody(req);
        if (body.state === undefined || body.state === null) throw invalidParameter("Missing required field: state", { parameter: "state" });
        const row = await instances.updateState(req.params.id, parseState(body.state, "state"), optionalTime(body.next_fire_at, "next_fire_at"), a.ownerScope(req.query.get("tenant_id")));
        return { status: 200, body: instanceJson(row) };
      }),
    )
    .on(
      "PATCH",
      "/instances/:id/context",
      secured("InstanceService.UpdateContext", async (req, a) => {
        const body = await objectBody(req);
        if (!isObject(body.context)) throw invalidParameter("context must be an object", { parameter: "context" });
        return { status: 200, body: instanceJson(await instances.updateContext(req.params.id, body.context, a.ownerScope(req.query.get("tenant_id")))) };
      }),
    )
    .on(
      "POST",
      "/instances/:id/signals",
      secured("InstanceService.SendSignal", async (req, a) => {
        const body = await objectBody(req);
        const { signalId } = await instances.sendSignal(req.params.id, body.signal_type, body.payload, a.ownerScope(req.query.get("tenant_id")));
        return { status: 201, body: { signal_id: signalId } };
      }),
    )
    .on(
      "GET",
      "/instances/:id/outputs",
      secured("InstanceService.GetOutputs", async (req, a) => ({ status: 200, body: (await instances.outputs(req.params.id, a.ownerScope(req.query.get("tenant_id")))).map(outputJson) })),
    )
    .on(
      "POST",
      "/instances/:id/retry",
      secured("InstanceService.Retry", async (req, a) => ({ status: 200, body: await instances.retry(req.params.id, a.ownerScope(req.query.get("tenant_id"))) })),
    );
}
