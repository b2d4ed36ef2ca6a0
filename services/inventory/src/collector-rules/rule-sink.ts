import type { JsonObject } from "@bufbuild/protobuf";
import type { Logger } from "pino";
import type { ResourceSink, UpsertContext, UpsertItem } from "../collection/resource-sink";
import { applyRulesToResource, compileRule, type CompiledRule } from "@cloudforet/query";
import type { CollectorRuleRepository } from "./repository";

/**
 * The collection's write path with collector rules: before a batch goes to cloud-service, each item
 * passes through its collector's rules and then the domain's (@cloudforet/query's applyRules); the keys a rule
 * set travel with the item (`rule_changes`) so cloud-service's change history names the rule as
 * their author, and the job id travels so it names the job for the rest. Every item is marked
 * `collector_rules_applied`, so cloud-service (which rules push collections) does not rule it again.
 */
export function withCollectorRules(sink: ResourceSink, rules: CollectorRuleRepository, logger: Logger): ResourceSink {
  return {
    ensureType: (type, authorization) => sink.ensureType(type, authorization),
    async upsert(items, authorization, signal, context) {
      if (!context) return sink.upsert(items, authorization, signal);
      const byCollector = new Map<string, CompiledRule[]>();
      const ruled: UpsertItem[] = [];
      for (const item of items) {
        const collectorId = item.collectorId ?? "";
        let compiled = byCollector.get(collectorId);
        if (!compiled) {
          compiled = compileAll(await rules.rulesFor(context.domainId, collectorId), logger);
          byCollector.set(collectorId, compiled);
        }
        ruled.push(applyTo(item, compiled, context.jobId));
      }
      return sink.upsert(ruled, authorization, signal, context);
    },
  };
}

function compileAll(rows: Awaited<ReturnType<CollectorRuleRepository["rulesFor"]>>, logger: Logger): CompiledRule[] {
  return rows.flatMap((row) => {
    try {
      return [compileRule(row)];
    } catch (err) {
      logger.warn({ err, collector_rule_id: row.collectorRuleId }, "a stored collector rule no longer parses; skipped");
      return [];
    }
  });
}

function applyTo(item: UpsertItem, rules: CompiledRule[], jobId: string): UpsertItem {
  // Marked as ruled (even when no rule matched): cloud-service does not apply the rules again.
  const ruled = { ...item, jobId, collectorRulesApplied: true };
  const changed = applyRulesToResource(rules, {
    provider: item.provider ?? "",
    cloudServiceType: item.cloudServiceType ?? "",
    cloudServiceGroup: item.cloudServiceGroup ?? "",
    cloudServiceName: item.cloudServiceName ?? "",
    account: item.account ?? "",
    projectId: item.projectId ?? "",
    reference: { resource_id: item.reference?.resourceId ?? "", external_link: item.reference?.externalLink ?? "" },
    data: (item.data ?? {}) as JsonObject,
    tags: item.tags ?? {},
  });
  return changed ? { ...ruled, ...changed } : ruled;
}
