import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { ServiceImpl } from "@connectrpc/connect";
import { ServiceAccountService } from "@cloudforet/proto/cloudforet/identity/v1/service_account_pb";
import { Access } from "../access/access";
import type { ServiceAccountRow } from "../db/schema";
import { listRow } from "../list-rows";
import type { ServiceAccountRules } from "./rules";

function toMessage(row: ServiceAccountRow) {
  return {
    serviceAccountId: row.serviceAccountId,
    name: row.name,
    provider: row.provider,
    data: row.data,
    tags: row.tags,
    projectId: row.projectId,
    workspaceId: row.workspaceId,
    secretId: row.secretId,
    domainId: row.domainId,
    createdAt: timestampFromDate(row.createdAt),
    updatedAt: timestampFromDate(row.updatedAt),
  };
}

function fromListRow(raw: Record<string, unknown>) {
  const row = listRow(raw);
  return {
    serviceAccountId: row.text("service_account_id"),
    name: row.text("name"),
    provider: row.text("provider"),
    data: row.json("data"),
    tags: row.tags("tags"),
    projectId: row.text("project_id"),
    workspaceId: row.text("workspace_id"),
    secretId: row.text("secret_id"),
    domainId: row.text("domain_id"),
    createdAt: row.time("created_at"),
    updatedAt: row.time("updated_at"),
  };
}

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
