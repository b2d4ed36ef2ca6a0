import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { ServiceImpl } from "@connectrpc/connect";
import { DomainService, Domain_State } from "@cloudforet/proto/cloudforet/identity/v1/domain_pb";
import { Access } from "../access/access";
import type { DomainRow } from "../db/schema";
import { listRow } from "../list-rows";
import type { DomainRules } from "./rules";

function toMessage(row: DomainRow) {
  return {
    domainId: row.domainId,
    name: row.name,
    state: Domain_State[row.state],
    tags: row.tags,
    createdAt: timestampFromDate(row.createdAt),
    updatedAt: timestampFromDate(row.updatedAt),
  };
}

function fromListRow(raw: Record<string, unknown>) {
  const row = listRow(raw);
  return {
    domainId: row.text("domain_id"),
    name: row.text("name"),
    state: row.enumValue("state", Domain_State),
    tags: row.tags("tags"),
    createdAt: row.time("created_at"),
    updatedAt: row.time("updated_at"),
  };
}

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
