import type { JsonObject } from "@bufbuild/protobuf";
import type { SequenceRow } from "../db/schema";
import { ts } from "../grpc/grpc-mapping";

export function sequenceMessage(row: SequenceRow) {
  return {
    id: row.id,
    tenantId: row.tenantId,
    namespace: row.namespace,
    name: row.name,
    version: row.version,
    blocks: row.blocks as unknown as JsonObject[],
    createdAt: ts(row.createdAt),
  };
}
