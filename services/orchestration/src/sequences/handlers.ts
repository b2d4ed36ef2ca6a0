import type { ServiceImpl } from "@connectrpc/connect";
import { SequenceService } from "@cloudforet/proto/cloudforet/orchestration/v1/sequence_pb";
import { dateOf, ownerOf, scopeOf } from "../grpc/grpc-mapping";
import type { Sequences } from "./sequences";
import { sequenceMessage } from "./to-message";

export function sequenceHandlers(sequences: Sequences): ServiceImpl<typeof SequenceService> {
  return {
    async create(req, ctx) {
      const row = await sequences.create({
        id: req.id || undefined,
        ...ownerOf(ctx, req.tenantId),
        namespace: req.namespace,
        name: req.name,
        version: req.version,
        blocks: req.blocks,
        createdAt: dateOf(req.createdAt),
      });
      return { id: row.id };
    },
    async get(req, ctx) {
      return sequenceMessage(await sequences.get(req.id, scopeOf(ctx)));
    },
    async getByName(req, ctx) {
      return sequenceMessage(await sequences.getByName(ownerOf(ctx, req.tenantId), req.namespace, req.name, req.version));
    },
  };
}
