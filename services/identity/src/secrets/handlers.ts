import type { ServiceImpl } from "@connectrpc/connect";
import { SecretService } from "@cloudforet/proto/cloudforet/identity/v1/secret_pb";
import { Access } from "../access/access";
import { optionalDate } from "../messages/list-rows";
import type { SecretRules } from "./secrets";
import { fromListRow, secretDataMessage, toMessage } from "./to-message";

export function secretHandlers(rules: SecretRules): ServiceImpl<typeof SecretService> {
  return {
    async create(req, ctx) {
      return toMessage(await rules.create(Access.of(ctx), { ...req, expiresAt: optionalDate(req.expiresAt) }));
    },
    async get(req, ctx) {
      return toMessage(await rules.get(Access.of(ctx), req.secretId));
    },
    async getData(req, ctx) {
      const { row, data } = await rules.getData(Access.of(ctx), req);
      return secretDataMessage(row, data);
    },
    async set(req, ctx) {
      const { row, created } = await rules.set(Access.of(ctx), { ...req, expiresAt: optionalDate(req.expiresAt) });
      return { ...toMessage(row), created };
    },
    async list(req, ctx) {
      const { results, total_count } = await rules.list(Access.of(ctx), req.query);
      return { results: results.map(fromListRow), totalCount: total_count };
    },
    async delete(req, ctx) {
      await rules.delete(Access.of(ctx), req.secretId);
      return {};
    },
  };
}
