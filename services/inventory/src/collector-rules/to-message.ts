import { fromJson, type JsonObject, type JsonValue } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { FilterSchema } from "@cloudforet/proto/cloudforet/common/v1/query_pb";
import type { CollectorRuleRow } from "../db/schema";

/** A stored rule as the wire's CollectorRule. */
export function collectorRuleMessage(row: CollectorRuleRow) {
  return {
    collectorRuleId: row.collectorRuleId,
    name: row.name,
    collectorId: row.collectorId,
    order: row.ruleOrder,
    conditions: row.conditions.map((c) => fromJson(FilterSchema, { k: c.k, v: c.v as JsonValue, o: c.o })),
    conditionsPolicy: row.conditionsPolicy,
    actions: { changeProject: row.actions.change_project ?? "", addTags: row.actions.add_tags ?? {}, changeData: (row.actions.change_data ?? {}) as JsonObject },
    stopProcessing: row.stopProcessing,
    tags: row.tags,
    workspaceId: row.workspaceId,
    domainId: row.domainId,
    createdAt: timestampFromDate(row.createdAt),
    updatedAt: timestampFromDate(row.updatedAt),
  };
}
