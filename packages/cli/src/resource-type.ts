import type { JsonObject } from "@bufbuild/protobuf";
import type { Client, FilterInput } from "@cloudforet/sdk";

// The shape of a cfctl resource type, on its own so that resources.ts (the registry) and the
// per-service resource lists it gathers (orchestration-resources.ts) both import it without a cycle.

/** What `cfctl list` asks for. */
export interface ListRequest {
  filter: FilterInput[];
  sort?: { key: string; desc: boolean };
  /** At most this many items (all when absent). */
  limit?: number;
}

/** One kind of resource cfctl can list, get, delete or aggregate, whatever service holds it. */
export interface ResourceType {
  /** The plural name of the command line, e.g. `cloud-services`. */
  name: string;
  /** The singular, e.g. `cloud-service` (also accepted on the command line). */
  kind: string;
  aliases: string[];
  /** The JSON field that identifies an item (`cloud_service_id`). */
  idField: string;
  /** The table's default columns (JSON paths). */
  columns: string[];
  /** Items as JSON, paged by the SDK, stopping at `limit`. */
  list?(client: Client, request: ListRequest): AsyncIterable<JsonObject>;
  get?(client: Client, id: string): Promise<JsonObject>;
  delete?(client: Client, id: string): Promise<void>;
  /** Server-side aggregation (CloudServiceService.Stat); others are aggregated by cfctl. */
  stat?(client: Client, request: StatRequest): Promise<JsonObject[]>;
  /** Why `list` is missing, when it is. */
  noList?: string;
}

export interface StatRequest {
  filter: FilterInput[];
  groupBy: string[];
  /** Sum this field per group instead of counting. */
  sum?: string;
}
