import type { ServiceImpl } from "@connectrpc/connect";
import { DomainService } from "@cloudforet/proto/cloudforet/identity/v1/domain_pb";
import { Access } from "../access/access";
import type { DomainRules } from "./domains";
import { fromListRow, toMessage } from "./to-message";

export function domainHandlers(rules: DomainRules): ServiceImpl<typeof DomainService> {
  return {
    async create(req, ctx) {
      return toMessage(await rules.create(Access.of(ctx), req));
    },
    async get(req, ctx) {
      return toMessage(await rules.get(Access.of(ctx), req.domainId));
    },
    async list(req, ctx) {
      const { results, total_count } = await rules.list(Access.of(ctx), req.query);
      return { results: results.map(fromListRow), totalCount: total_count };
    },
    async delete(req, ctx) {
      await rules.delete(Access.of(ctx), req.domainId);
      return {};
    },
  };
}
