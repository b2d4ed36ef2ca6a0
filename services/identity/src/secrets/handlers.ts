import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { ServiceImpl } from "@connectrpc/connect";
import { SecretService } from "@cloudforet/proto/cloudforet/identity/v1/secret_pb";
import { Access } from "../access/access";
import { listRow, optionalDate, optionalTime } from "../list-rows";
import type { SecretMetadata } from "./repository";
import type { SecretRules } from "./rules";

/** Metadata only: no response but GetData carries the value. */
function toMessage(row: SecretMetadata) {
  return {
    secretId: row.secretId,
    name: row.name,
    tags: row.tags,
    workspaceId: row.workspaceId,
    serviceAccountId: row.serviceAccountId,
    expiresAt: optionalTime(row.expiresAt),
    domainId: row.domainId,
    createdAt: timestampFromDate(row.createdAt),
    updatedAt: timestampFromDate(row.updatedAt),
  };
}

function fromListRow(raw: Record<string, unknown>) {
  const row = listRow(raw);
  return {
    secretId: row.text("secret_id"),
    name: row.text("name"),
    tags: row.tags("tags"),
    workspaceId: row.text("workspace_id"),
    serviceAccountId: row.text("service_account_id"),
    expiresAt: row.time("expires_at"),
    domainId: row.text("domain_id"),
    createdAt: row.time("created_at"),
    updatedAt: row.time("updated_at"),
  };
}

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
      // Exactly seed 000 "Fetch Secret".
      return {
        secretId: row.secretId,
        name: row.name,
        data,
        tags: row.tags,
        domainId: row.domainId,
        createdAt: timestampFromDate(row.createdAt),
        updatedAt: timestampFromDate(row.updatedAt),
      };
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
