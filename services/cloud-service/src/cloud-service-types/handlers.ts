import type { ServiceImpl } from "@connectrpc/connect";
import { invalidParameter, missingParameter, notFound, permissionDenied } from "@cloudforet/errors";
import type { CloudServiceTypeRow } from "../db/schema";
import { CloudServiceTypeService } from "@cloudforet/proto/cloudforet/cloud_service/v1/cloud_service_type_pb";
import { validateTags } from "@cloudforet/query";
import { callerOf, requireDomainAccess } from "@cloudforet/runtime";
import type { CloudServiceTypeRepository } from "./repository";
import { resolveTypeName, validateProvider } from "./cloud-service-types";
import { declaredSearchKeys } from "../search-keys/declared-keys";
import type { SearchKeyIndexer } from "../search-keys/search-key-indexer";
import { fromListRow, toMessage } from "./to-message";

export function cloudServiceTypeHandlers(repo: CloudServiceTypeRepository, indexer?: SearchKeyIndexer): ServiceImpl<typeof CloudServiceTypeService> {
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
      // In the background: building an index over many resources takes a while, and queries are
      // correct (if slower) until it is valid.
      void indexer?.declare(declaredSearchKeys(row.metadata));
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
