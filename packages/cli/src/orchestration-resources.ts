import { createRegistry, toJson, type JsonObject, type Message } from "@bufbuild/protobuf";
import type { Client } from "@cloudforet/sdk";
import * as cronPb from "@cloudforet/proto/cloudforet/orchestration/v1/cron_pb";
import * as instancePb from "@cloudforet/proto/cloudforet/orchestration/v1/instance_pb";
import * as recurrentPb from "@cloudforet/proto/cloudforet/orchestration/v1/recurrent_request_pb";
import * as sequencePb from "@cloudforet/proto/cloudforet/orchestration/v1/sequence_pb";
import * as triggerPb from "@cloudforet/proto/cloudforet/orchestration/v1/trigger_pb";
import { UsageError } from "./cli-error";
import type { ListRequest, ResourceType } from "./resource-type";
import { limited, pageSizeFor } from "./paging";

/** Every message of the orchestration contract, to print whatever a manager returns. */
const registry = createRegistry(
  ...[cronPb, instancePb, recurrentPb, sequencePb, triggerPb].flatMap((file) =>
    Object.values(file).filter((value): value is never => typeof value === "object" && value !== null && (value as { kind?: string }).kind === "message"),
  ),
);

/** A message or a handle (its `data`) as the platform's JSON. */
export function orchestrationJson(item: unknown): JsonObject {
  const message = (item && typeof item === "object" && "data" in item && !("$typeName" in item) ? (item as { data: unknown }).data : item) as Message;
  const schema = registry.getMessage(message.$typeName);
  if (!schema) throw new Error(`no schema for ${message.$typeName}`);
  return toJson(schema, message, { useProtoFieldName: true, alwaysEmitImplicit: true, registry }) as JsonObject;
}

/**
 * Orchestration lists take fixed parameters instead of the query language: the `--filter`s
 * they understand (`key=value`, `state=a|b`) become those parameters; others are refused.
 */
type ParameterType = "string" | "bool" | "states" | "triggerType" | "status";

function listParameters(request: ListRequest, allowed: Record<string, ParameterType>): Record<string, unknown> {
  if (request.sort) throw new UsageError("orchestration lists come in their own order; --sort is not supported for them", "list");
  const parameters: Record<string, unknown> = {};
  for (const filter of request.filter) {
    const type = allowed[filter.k];
    const values = Array.isArray(filter.v) ? filter.v.map(String) : [String(filter.v)];
    if (!type || (filter.o !== "eq" && filter.o !== "in") || (values.length > 1 && type !== "states")) {
      throw new UsageError(`this list filters only by ${Object.keys(allowed).map((k) => `${k}=…`).join(", ")}`, "list");
    }
    const key = filter.k === "state" ? "states" : filter.k.replace(/_(\w)/g, (_, c: string) => c.toUpperCase());
    if (type === "states") parameters[key] = values.map((v) => enumValue(instancePb.TaskInstance_State, v, "state"));
    else if (type === "triggerType") parameters[key] = enumValue(triggerPb.Trigger_TriggerType, values[0], filter.k);
    else if (type === "status") parameters[key] = enumValue(recurrentPb.RecurrentRequest_Status, values[0], filter.k);
    else if (type === "bool") parameters[key] = values[0] === "true";
    else parameters[key] = values[0];
  }
  return parameters;
}

function enumValue(enumObject: object, name: string, parameter: string): number {
  const value = (enumObject as Record<string, unknown>)[name.toUpperCase()];
  if (typeof value !== "number") throw new UsageError(`${parameter} must be one of ${Object.keys(enumObject).filter((k) => Number.isNaN(Number(k))).join(", ")}`, "list");
  return value;
}

/** What cfctl needs of an orchestration manager with offset-paged lists. */
interface OrchestrationManager {
  list(filter?: object, options?: { pageSize?: number }): AsyncIterable<unknown>;
  get(id: string): Promise<unknown>;
  delete(id: string): Promise<void>;
}

function managed(
  shape: Pick<ResourceType, "name" | "kind" | "aliases" | "idField" | "columns">,
  manager: (client: Client) => OrchestrationManager,
  filters: Record<string, ParameterType>,
): ResourceType {
  return {
    ...shape,
    async *list(client, request) {
      const items = manager(client).list(listParameters(request, filters), { pageSize: pageSizeFor(request.limit) });
      for await (const item of limited(items, request.limit)) yield orchestrationJson(item);
    },
    get: async (client, id) => orchestrationJson(await manager(client).get(id)),
    delete: (client, id) => manager(client).delete(id),
  };
}

export const orchestrationResources: ResourceType[] = [
  {
    name: "sequences",
    kind: "sequence",
    aliases: ["seq"],
    idField: "id",
    columns: ["id", "name", "namespace", "version", "created_at"],
    noList: "SequenceService has no List: cfctl get sequence <id>, or cfctl get sequence <namespace>/<name>",
    get: async (client, id) => {
      // `namespace/name` (or a bare name in `default`) reads the latest version by name.
      if (!/^[0-9a-f-]{36}$/i.test(id)) {
        const [namespace, name] = id.includes("/") ? id.split("/", 2) : ["default", id];
        return orchestrationJson(await client.orchestration.sequences.getByName({ namespace, name }));
      }
      return orchestrationJson(await client.orchestration.sequences.get(id));
    },
  },
  {
    name: "instances",
    kind: "instance",
    aliases: ["inst"],
    idField: "id",
    columns: ["id", "sequence_id", "namespace", "state", "next_fire_at", "updated_at"],
    async *list(client, request) {
      const filter = listParameters(request, { namespace: "string", sequence_id: "string", state: "states" });
      const items = client.orchestration.instances.list(filter, { pageSize: pageSizeFor(request.limit) });
      for await (const item of limited(items, request.limit)) yield orchestrationJson(item);
    },
    get: async (client, id) => orchestrationJson(await client.orchestration.instances.get(id)),
  },
  managed(
    { name: "cron-schedules", kind: "cron-schedule", aliases: ["cron", "crons"], idField: "id", columns: ["id", "sequence_id", "cron_expr", "timezone", "enabled", "next_fire_at"] },
    (c) => c.orchestration.cronSchedules,
    { namespace: "string", sequence_id: "string", enabled: "bool" },
  ),
  managed(
    { name: "triggers", kind: "trigger", aliases: ["trig"], idField: "slug", columns: ["slug", "sequence_name", "namespace", "trigger_type", "enabled", "updated_at"] },
    (c) => c.orchestration.triggers,
    { namespace: "string", sequence_id: "string", trigger_type: "triggerType", enabled: "bool" },
  ),
  managed(
    {
      name: "recurrent-requests",
      kind: "recurrent-request",
      aliases: ["rr"],
      idField: "id",
      columns: ["id", "name", "status", "recurrence.schedule_type", "next_run_at", "run_count"],
    },
    (c) => c.orchestration.recurrentRequests,
    { name: "string", status: "status" },
  ),
];
