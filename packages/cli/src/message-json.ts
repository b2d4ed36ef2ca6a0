import { toJson, type DescMessage, type JsonObject, type MessageShape } from "@bufbuild/protobuf";

/**
 * A message as the platform's JSON dialect prints it (README "JSON"): snake_case names, zero
 * values included, enums by name, timestamps in RFC 3339.
 */
export function messageJson<D extends DescMessage>(schema: D, message: MessageShape<D>): JsonObject {
  return toJson(schema, message, { useProtoFieldName: true, alwaysEmitImplicit: true }) as JsonObject;
}
