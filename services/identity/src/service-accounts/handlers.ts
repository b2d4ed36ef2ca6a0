import type { ServiceImpl } from "@connectrpc/connect";
import { ServiceAccountService } from "@cloudforet/proto/cloudforet/identity/v1/service_account_pb";
import { Access } from "../access/access";
import type { ServiceAccountRules } from "./service-accounts";
import { fromListRow, toMessage } from "./to-message";

export function serviceAccountHandlers(rules: ServiceAccountRules): ServiceImpl<typeof ServiceAccountService> {
  return {
    async create(req, ctx) {
      return toMessage(await rules.create(Access.of(ctx), req));
    },
    async get(req, ctx) {
      return toMessage(await rules.get(Access.of(ctx), req.serviceAccountId));
    },
    async list(req, ctx) {
      const { results, total_count } = await rules.list(Access.of(ctx), req.query);
      return { results: results.map(fromListRow), totalCount: total_count };
    },
    async update(req, ctx) {
      return toMessage(await rules.update(Access.of(ctx), req));
    },
    async delete(req, ctx) {
      await rules.delete(Access.of(ctx), req.serviceAccountId);
      return {};
    },
  };
}
