import { fromJson, type JsonObject, type JsonValue } from "@bufbuild/protobuf";
import { ValueSchema } from "@bufbuild/protobuf/wkt";
import { invalidParameter, serviceUnavailable } from "@cloudforet/errors";
import { CloudServiceService, type CloudService } from "@cloudforet/proto/cloudforet/cloud_service/v1/cloud_service_pb";
import { FilterSchema } from "@cloudforet/proto/cloudforet/common/v1/query_pb";
import { ClientError, createServiceClient, ErrorCategory } from "@cloudforet/resilience";
import type { Logger } from "pino";
import type { CollectorRuleRow } from "../db/schema";
import { applyRules, changedKeys, ruleSubject, type RuleSubject } from "@cloudforet/query";

/** A dry run's page: at most this many resources examined per call. */
const MAX_PAGE = 1000;
const DEFAULT_PAGE = 100;

/** The resource as a rule sees it. */
export function subjectOf(resource: CloudService): RuleSubject {
  return ruleSubject({
    ...resource,
    cloudServiceName: resource.name,
    reference: { resource_id: resource.reference?.resourceId ?? "", external_link: resource.reference?.externalLink ?? "" },
    data: (resource.data ?? {}) as JsonObject,
  });
}

/**
 * What a rule would change on existing resources: cloud-service's List, as the caller, with the
 * rule's conditions as the query (its collector's resources only, for a collector's rule), and the
 * rule's actions applied to each result in memory. Nothing is written.
 */
export class RuleDryRun {
  private readonly resources;

  constructor(cloudServiceUrl: string, logger: Logger) {
    this.resources = createServiceClient(CloudServiceService, cloudServiceUrl, { logger, upstream: "cloud-service", timeoutMs: 30_000 });
  }

  async run(rule: CollectorRuleRow, page: { start: number; limit: number }, authorization: string | null) {
    if (page.start < 0) throw invalidParameter("page.start must be 0 or more", { parameter: "page.start" });
    if (page.limit < 0 || page.limit > MAX_PAGE) throw invalidParameter(`page.limit must be from 1 to ${MAX_PAGE}`, { parameter: "page.limit" });
    const conditions = rule.conditionsPolicy === "ALWAYS" ? [] : rule.conditions.map((c) => fromJson(FilterSchema, { k: c.k, v: c.v as JsonValue, o: c.o }));
    const scoped = rule.collectorId ? [{ k: "collector_id", v: fromJson(ValueSchema, rule.collectorId), o: "eq" }] : [];
    let answer;
    try {
      answer = await this.resources.list(
        {
          query: {
            filter: [...scoped, ...(rule.conditionsPolicy === "ANY" ? [] : conditions)],
            filterOr: rule.conditionsPolicy === "ANY" ? conditions : [],
            page: { start: page.start, limit: page.limit || DEFAULT_PAGE },
          },
        },
        { headers: authorization ? { authorization } : {} },
      );
    } catch (err) {
      const failure = ClientError.from(err);
      if (failure.category === ErrorCategory.VALIDATION) throw invalidParameter(`cloud-service refused the rule's conditions: ${failure.message}`, { parameter: "conditions" });
      throw serviceUnavailable(`cloud-service cannot be reached: ${failure.message}`, { collector_rule_id: rule.collectorRuleId });
    }
    const results = answer.results.flatMap((resource) => {
      const subject = subjectOf(resource);
      // cloud-service matched the conditions; the actions alone decide what changes.
      const changes = changedKeys(subject, applyRules([{ row: rule, filters: "always" }], subject));
      if (changes.length === 0) return [];
      return [{ cloudServiceId: resource.cloudServiceId, name: resource.name, changes: changes.map((c) => ({ key: c.key, before: fromJson(ValueSchema, c.before), after: fromJson(ValueSchema, c.after) })) }];
    });
    return { results, matchedCount: answer.totalCount };
  }
}
