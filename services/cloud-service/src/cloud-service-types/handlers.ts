import type { JsonObject } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { ServiceImpl } from "@connectrpc/connect";
import { invalidParameter, missingParameter, notFound, permissionDenied } from "@cloudforet/errors";
import { CloudServiceTypeService } from "@cloudforet/proto/cloudforet/cloud_service/v1/cloud_service_type_pb";
import { callerOf, requireDomainAccess } from "@cloudforet/runtime";
import type { CloudServiceTypeRow } from "../db/schema";
import type { CloudServiceTypeRepository } from "./repository";
import { resolveTypeName, validateProvider, validateTags } from "./rules";

/** The wire shape of a type (Create/Get responses and List results share it). */
function toMessage(row: CloudServiceTypeRow) {
  return {
    cloudServiceTypeId: row.cloudServiceTypeId,
    key: row.key,
    name: row.name,
    group: row.group,
    provider: row.provider,
    isBuiltin: row.isBuiltin,
    metadata: row.metadata,
    tags: row.tags,
    domainId: row.domainId,
    createdAt: timestampFromDate(row.createdAt),
    updatedAt: timestampFromDate(row.updatedAt),
  };
}

/** List rows come back as query-language projections keyed by field name. */
function fromListRow(row: Record<string, unknown>) {
  const at = (value: unknown) => (value instanceof Date ? timestampFromDate(value) : undefined);
  return {
    cloudServiceTypeId: row.cloud_service_type_id as string | undefined,
    key: row.key as string | undefined,
    name: row.name as string | undefined,
    group: row.group as string | undefined,
    provider: row.provider as string | undefined,
    isBuiltin: row.is_builtin as boolean | undefined,
    metadata: row.metadata as JsonObject | undefined,
    tags: row.tags as Record<string, string> | undefined,
    domainId: row.domain_id as string | undefined,
    createdAt: at(row.created_at),
    updatedAt: at(row.updated_at),
  };
}

export function cloudServiceTypeHandlers(repo: CloudServiceTypeRepository): ServiceImpl<typeof CloudServiceTypeService> {
  return {
    async create(req, ctx) {
      const caller = callerOf(ctx);
      requireDomainAccess(caller, "write");
      const { domainId } = caller;
      const name = resolveTypeName(req);
      const row = await repo.create({
        domainId,
        ...name,
        provider: validateProvider(req.provider),
        metadata: req.metadata ?? {},
        tags: validateTags(req.tags),
      });
      return toMessage(row);
    },

    async get(req, ctx) {
      const { domainId } = callerOf(ctx);
      let row: CloudServiceTypeRow | undefined;
      if (req.cloudServiceTypeId) {
        row = await repo.getById(domainId, req.cloudServiceTypeId);
        if (!row) throw notFound("Cloud service type not found", { cloud_service_type_id: req.cloudServiceTypeId });
      } else if (req.key) {
        row = await repo.findByKey(domainId, req.key, validateProvider(req.provider));
        if (!row) throw notFound("Cloud service type not found", { key: req.key, provider: req.provider });
      } else {
        throw missingParameter("cloud_service_type_id");
      }
      return toMessage(row);
    },

    async list(req, ctx) {
      const { domainId } = callerOf(ctx);
      const { results, total_count } = await repo.list(domainId, req.query ?? {});
      return { results: results.map(fromListRow), totalCount: total_count };
    },

    async delete(req, ctx) {
      const caller = callerOf(ctx);
      requireDomainAccess(caller, "write");
      const { domainId } = caller;
      if (!req.cloudServiceTypeId) throw missingParameter("cloud_service_type_id");
      const row = await repo.getById(domainId, req.cloudServiceTypeId);
      if (!row) throw notFound("Cloud service type not found", { cloud_service_type_id: req.cloudServiceTypeId });
      if (row.isBuiltin) throw permissionDenied("Built-in cloud service types cannot be deleted", { cloud_service_type_id: row.cloudServiceTypeId });
      if (!(await repo.delete(domainId, row.cloudServiceTypeId))) {
        throw invalidParameter("Cloud service type changed while deleting", { cloud_service_type_id: row.cloudServiceTypeId });
      }
      return {};
    },
  };
}
