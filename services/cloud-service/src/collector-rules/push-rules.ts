import { fromJson, toJson, type JsonObject } from "@bufbuild/protobuf";
import { ValueSchema } from "@bufbuild/protobuf/wkt";
import { PlatformError, serviceUnavailable } from "@cloudforet/errors";
import { CollectorRuleService, type CollectorRule } from "@cloudforet/proto/cloudforet/inventory/v1/collector_rule_pb";
import { applyRulesToResource, compileRule, CONDITIONS_POLICIES, QUERY_LIMITS, type CollectorRuleSpec, type CompiledRule, type ConditionsPolicy, type TenantScope } from "@cloudforet/query";
import { ClientError, createServiceClient } from "@cloudforet/resilience";
import type { Logger } from "pino";
import type { ResourceInput } from "../cloud-services/cloud-services";

/** How long the rules of one (domain, collector) are reused before inventory is asked again. */
export const PUSH_RULES_TTL_MS = 5_000;

/**
 * Collector rules for push collections: an item that names a collector_id and was not ruled by
 * inventory's pull path (`collector_rules_applied` false) passes through its collector's rules, then
 * the domain's, before it is written, with the keys a rule set recorded as that rule's changes, as the
 * pull path does. The rules come from inventory's CollectorRuleService.List, asked as the caller, and
 * are reused for PUSH_RULES_TTL_MS per (domain, collector) and the workspaces the caller reads: a rule
 * changed in inventory applies to push writes at most that much later. When inventory cannot answer, the collector's items fail with
 * ERROR_SERVICE_UNAVAILABLE (retryable) instead of being written unruled.
 */
export class PushCollectorRules {
  private readonly client;
  private readonly cache = new Map<string, { at: number; rules: CompiledRule[] }>();

  constructor(
    inventoryUrl: string,
    private readonly logger: Logger,
    private readonly ttlMs = PUSH_RULES_TTL_MS,
  ) {
    this.client = createServiceClient(CollectorRuleService, inventoryUrl, { logger, upstream: "inventory", timeoutMs: 10_000 });
  }

  /** The inputs with the rules applied where they are due; an item whose rules cannot be read becomes its error. */
  async apply(scope: TenantScope, authorization: string | null, inputs: Array<ResourceInput | PlatformError>): Promise<Array<ResourceInput | PlatformError>> {
    const due = new Set<string>();
    for (const input of inputs) if (!(input instanceof PlatformError) && input.collectorId && !input.collectorRulesApplied) due.add(input.collectorId);
    if (due.size === 0) return inputs;
    const rules = await this.rulesFor(scope, [...due], authorization);
    const now = new Date();
    return inputs.map((input) => {
      if (input instanceof PlatformError || !input.collectorId || input.collectorRulesApplied) return input;
      const compiled = rules.get(input.collectorId)!;
      if (compiled instanceof PlatformError) return serviceUnavailable(compiled.message, { ...compiled.metadata, resource_id: input.reference.resource_id || undefined });
      const changed = applyRulesToResource(compiled, input, now);
      if (!changed) return { ...input, collectorRulesApplied: true };
      return { ...input, ...changed, ruleChanges: { ...input.ruleChanges, ...changed.ruleChanges }, collectorRulesApplied: true };
    });
  }

  /**
   * The compiled rules of each collector (its own in order, then the domain's), from the cache or from
   * inventory: one List per up to 999 collectors not cached, however many a batch names (a batch of
   * many collector ids costs a few calls, not one each).
   */
  private async rulesFor(scope: TenantScope, collectorIds: string[], authorization: string | null): Promise<Map<string, CompiledRule[] | PlatformError>> {
    // Callers of one domain who read the same workspaces read the same rules.
    const keyOf = (collectorId: string) => JSON.stringify([scope.domainId, collectorId, scope.workspaceIds ?? "*"]);
    const found = new Map<string, CompiledRule[] | PlatformError>();
    const missing: string[] = [];
    for (const collectorId of collectorIds) {
      const cached = this.cache.get(keyOf(collectorId));
      if (cached && Date.now() - cached.at < this.ttlMs) found.set(collectorId, cached.rules);
      else missing.push(collectorId);
    }
    for (let i = 0; i < missing.length; i += QUERY_LIMITS.maxListValues - 1) {
      const chunk = missing.slice(i, i + QUERY_LIMITS.maxListValues - 1);
      try {
        const fetched = await this.fetch(chunk, authorization);
        for (const collectorId of chunk) {
          const compiled = fetched.get(collectorId)!;
          found.set(collectorId, compiled);
          this.cache.set(keyOf(collectorId), { at: Date.now(), rules: compiled });
          if (this.cache.size > 10_000) this.cache.delete(this.cache.keys().next().value!);
        }
      } catch (err) {
        // A failure is not remembered: the next batch asks again.
        const failure = ClientError.from(err);
        this.logger.warn({ collectors: chunk.length, error_code: failure.errorCode }, "collector rules cannot be read from inventory; the push items fail");
        const unavailable = serviceUnavailable(`collector rules cannot be read from inventory: ${failure.message}`);
        for (const collectorId of chunk) found.set(collectorId, unavailable);
      }
    }
    return found;
  }

  /** Each collector's rules in their order, then the domain's, compiled. */
  private async fetch(collectorIds: string[], authorization: string | null): Promise<Map<string, CompiledRule[]>> {
    const headers = authorization ? { authorization } : {};
    const found: CollectorRule[] = [];
    for (let start = 0; ; start += QUERY_LIMITS.maxPageLimit) {
      const page = await this.client.list(
        { query: { filter: [{ k: "collector_id", v: fromJson(ValueSchema, [...collectorIds, ""]), o: "in" }], page: { start, limit: QUERY_LIMITS.maxPageLimit } } },
        { headers },
      );
      found.push(...page.results);
      if (page.results.length < QUERY_LIMITS.maxPageLimit || found.length >= page.totalCount) break;
    }
    const byOrder = (a: CollectorRule, b: CollectorRule) => a.order - b.order;
    const domainWide = found.filter((rule) => rule.collectorId === "").sort(byOrder);
    return new Map(collectorIds.map((collectorId) => [collectorId, this.compile([...found.filter((rule) => rule.collectorId === collectorId).sort(byOrder), ...domainWide])]));
  }

  private compile(rules: CollectorRule[]): CompiledRule[] {
    return rules.flatMap((rule) => {
      try {
        return [compileRule(specOf(rule))];
      } catch (err) {
        this.logger.warn({ err, collector_rule_id: rule.collectorRuleId }, "a collector rule no longer parses; skipped");
        return [];
      }
    });
  }
}

function specOf(rule: CollectorRule): CollectorRuleSpec {
  const policy = (CONDITIONS_POLICIES as readonly string[]).includes(rule.conditionsPolicy) ? (rule.conditionsPolicy as ConditionsPolicy) : "ALL";
  const actions = rule.actions;
  return {
    collectorRuleId: rule.collectorRuleId,
    conditions: rule.conditions.map((c) => ({ k: c.k, v: c.v ? toJson(ValueSchema, c.v) : null, o: c.o || "eq" })),
    conditionsPolicy: policy,
    actions: {
      ...(actions?.changeProject ? { change_project: actions.changeProject } : {}),
      ...(actions && Object.keys(actions.addTags).length > 0 ? { add_tags: actions.addTags } : {}),
      ...(actions?.changeData && Object.keys(actions.changeData).length > 0 ? { change_data: actions.changeData as JsonObject } : {}),
    },
    stopProcessing: rule.stopProcessing,
  };
}
