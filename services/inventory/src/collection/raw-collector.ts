import { clone, createFileRegistry, fromBinary, toJson, type DescMessage, type JsonObject, type JsonValue, type Message } from "@bufbuild/protobuf";
import type { GenMessage, GenService } from "@bufbuild/protobuf/codegenv2";
import { FieldDescriptorProto_Type, FileDescriptorProtoSchema, file_google_protobuf_struct, StructSchema } from "@bufbuild/protobuf/wkt";
import {
  Collector,
  CollectorCollectResponse_State,
  file_cloudforet_inventory_plugin_v1_collector,
} from "@cloudforet/proto/cloudforet/inventory/plugin/v1/collector_pb";
import { storedText } from "../jobs/stored-text";
import { ItemRejected } from "./collected-item";

/** CollectorCollectResponse as it arrived: the state decoded, every other field still bytes. */
export type RawResourceInfo = Message<"cloudforet.inventory.plugin.v1.CollectorCollectResponse"> & {
  state: CollectorCollectResponse_State;
  message: Uint8Array;
  resourceType: Uint8Array;
  matchRules: Uint8Array;
  resource: Uint8Array;
};

/** The Collector service whose Collect yields RawResourceInfo; Init and Verify as generated. */
export type RawCollectorService = GenService<{
  init: (typeof Collector)["method"]["init"];
  verify: (typeof Collector)["method"]["verify"];
  collect: { methodKind: "server_streaming"; input: (typeof Collector)["method"]["collect"]["input"]; output: GenMessage<RawResourceInfo> };
}>;

/**
 * The plugin contract with Collect's fields read as bytes (the same wire format: a string or an
 * embedded message is a length-delimited field either way). With the generated types one item with
 * bad UTF-8 or a Struct nested past protobuf's recursion limit fails to decode, which ends the whole
 * stream and drops every valid item after it; read as bytes, each item is decoded on its own and a
 * bad one is one item error.
 */
export const RawCollector: RawCollectorService = (() => {
  const proto = clone(FileDescriptorProtoSchema, file_cloudforet_inventory_plugin_v1_collector.proto);
  proto.name = `raw/${proto.name}`;
  const response = proto.messageType.find((m) => m.name === "CollectorCollectResponse")!;
  for (const field of response.field) {
    if (field.name === "state") continue;
    field.type = FieldDescriptorProto_Type.BYTES;
    field.typeName = "";
  }
  const registry = createFileRegistry(proto, (name) => (name === file_google_protobuf_struct.name + ".proto" || name === "google/protobuf/struct.proto" ? file_google_protobuf_struct : undefined));
  return registry.getService(Collector.typeName) as unknown as RawCollectorService;
})();

/** How deep a resource's JSON may nest (cloud-service decodes each level as two protobuf messages, limit 100). */
export const MAX_RESOURCE_DEPTH = 32;

/** One plugin item, decoded and checked. */
export interface ResourceInfo {
  state: CollectorCollectResponse_State;
  /** The plugin's message, sanitised and truncated for storing. */
  message: string;
  resourceType: string;
  matchRules: JsonObject | undefined;
  resource: JsonObject | undefined;
}

const lenientUtf8 = new TextDecoder("utf-8", { fatal: false });

/** Decodes a raw item; ItemRejected (one item error) when its resource or match rules are not valid. */
export function readResourceInfo(raw: RawResourceInfo): ResourceInfo {
  return {
    state: raw.state,
    message: storedText(lenientUtf8.decode(raw.message)),
    resourceType: storedText(lenientUtf8.decode(raw.resourceType), 256),
    matchRules: readStruct(raw.matchRules, "match_rules"),
    resource: readStruct(raw.resource, "resource"),
  };
}

function readStruct(bytes: Uint8Array, field: string): JsonObject | undefined {
  if (bytes.byteLength === 0) return undefined;
  let json: JsonObject;
  try {
    json = toJson(StructSchema as DescMessage, fromBinary(StructSchema, bytes)) as JsonObject;
  } catch (err) {
    const reason = /recursion depth/.test((err as Error).message)
      ? `nested deeper than ${MAX_RESOURCE_DEPTH} levels`
      : /utf-?8|encoded data/i.test((err as Error).message)
        ? "not valid UTF-8"
        : "not a valid google.protobuf.Struct";
    throw new ItemRejected(`${field} is ${reason}`);
  }
  checkJson(json, field, 1);
  return json;
}

/** Refuses what cloud-service or Postgres would refuse for a whole batch: deep nesting, NUL in text. */
function checkJson(value: JsonValue, field: string, depth: number): void {
  if (depth > MAX_RESOURCE_DEPTH) throw new ItemRejected(`${field} is nested deeper than ${MAX_RESOURCE_DEPTH} levels`);
  if (typeof value === "string") {
    if (value.includes("\u0000")) throw new ItemRejected(`${field} contains a NUL character`);
    return;
  }
  if (value === null || typeof value !== "object") return;
  if (Array.isArray(value)) {
    for (const element of value) checkJson(element, field, depth + 1);
    return;
  }
  for (const [key, element] of Object.entries(value)) {
    if (key.includes("\u0000")) throw new ItemRejected(`${field} contains a NUL character`);
    checkJson(element, field, depth + 1);
  }
}
