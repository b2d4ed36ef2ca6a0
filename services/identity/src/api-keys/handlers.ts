import type { ServiceImpl } from "@connectrpc/connect";
import { ApiKeyService } from "@cloudforet/proto/cloudforet/identity/v1/api_key_pb";
import { Access } from "../access/access";
import { optionalDate } from "../messages/list-rows";
import type { ApiKeyRules } from "./api-keys";
import { createdMessage, fromListRow, toMessage } from "./to-message";

export function apiKeyHandlers(rules: ApiKeyRules): ServiceImpl<typeof ApiKeyService> {
  return {
    async create(req, ctx) {
      const { row, key } = await rules.create(Access.of(ctx), { userId: req.userId, name: req.name, expiresAt: optionalDate(req.expiresAt) });
      return createdMessage(row, key);
    },
    async get(req, ctx) {
      return toMessage(await rules.get(Access.of(ctx), req.apiKeyId));
    },
    async list(req, ctx) {
      const { results, total_count } = await rules.list(Access.of(ctx), req.query);
      return { results: results.map(fromListRow), totalCount: total_count };
    },
    async revoke(req, ctx) {
      return toMessage(await rules.revoke(Access.of(ctx), req.apiKeyId));
    },
    async delete(req, ctx) {
      await rules.delete(Access.of(ctx), req.apiKeyId);
      return {};
    },
  };
}
