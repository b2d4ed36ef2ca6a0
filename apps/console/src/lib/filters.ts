import type { MessageInitShape } from "@bufbuild/protobuf";
import type { FilterSchema } from "@cloudforet/proto/cloudforet/common/v1/query_pb";

/** A query-language `eq` filter on a string or boolean field. */
export function eq(k: string, value: string | boolean): MessageInitShape<typeof FilterSchema> {
  return { k, o: "eq", v: { kind: typeof value === "boolean" ? { case: "boolValue", value } : { case: "stringValue", value } } };
}
