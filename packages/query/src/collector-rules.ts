import type { JsonObject, JsonValue } from "@bufbuild/protobuf";
import { matchesFilters, readMatchFilterList } from "./match-filters";
import type { QueryFilter } from "./query-model";

/**
 * Collector rules (CloudForet's), the pure part: compiling a stored rule and applying an ordered
 * list of them to a collected resource. One implementation for both writers that apply them:
 * inventory's pull path (before it sends a batch) and cloud-service (push collections, whose items
 * reach it directly). The rules of a collection are its collector's (in order), then the domain's
 * (collector_id empty, in order); every matching rule applies its actions, and a matching rule with
 * `stop_processing` ends the walk. Storing and validating rules is inventory's.
 */

export const CONDITIONS_POLICIES = ["ALL", "ANY", "ALWAYS"] as const;
export type ConditionsPolicy = (typeof CONDITIONS_POLICIES)[number];

/** What a rule's conditions may look at in a collected resource. */
export const CONDITION_KEYS = ["provider", "cloud_service_type", "cloud_service_group", "name", "account", "project_id", "reference.*", "data.*", "tags.*"] as const;

/** A rule as stored (inventory's row satisfies it). */
export interface CollectorRuleSpec {
  collectorRuleId: string;
  conditions: { k: string; v: unknown; o: string }[];
  conditionsPolicy: ConditionsPolicy;
  actions: { change_project?: string; add_tags?: Record<string, string>; change_data?: JsonObject };
  stopProcessing: boolean;
}

/** A stored rule, ready to match (its conditions parsed once). */
export interface CompiledRule<R extends CollectorRuleSpec = CollectorRuleSpec> {
  row: R;
  filters: { filter: QueryFilter[]; filterOr: QueryFilter[] } | "always";
}

/** Throws ERROR_INVALID_PARAMETER when the stored conditions no longer parse. */
export function compileRule<R extends CollectorRuleSpec>(row: R): CompiledRule<R> {
  if (row.conditionsPolicy === "ALWAYS") return { row, filters: "always" };
  const parsed = readMatchFilterList(row.conditions, { keys: CONDITION_KEYS, parameter: "conditions" });
  return { row, filters: row.conditionsPolicy === "ANY" ? { filter: [], filterOr: parsed } : { filter: parsed, filterOr: [] } };
}

/** A collected resource as rules see it (the condition keys) and change it. */
export interface RuleSubject {
  provider: string;
  cloud_service_type: string;
  cloud_service_group: string;
  name: string;
  account: string;
  project_id: string;
  reference: JsonObject;
  data: JsonObject;
  tags: Record<string, string>;
}

export interface RuleOutcome {
  subject: RuleSubject;
  /** Changed key (`project_id`, `tags.env`, `data.owner`) → the rule that set it last. */
  setBy: Record<string, string>;
}

/** Applies the rules in order to a copy of the subject. An empty condition list under ALL or ANY matches everything. */
export function applyRules(rules: CompiledRule[], input: RuleSubject, now = new Date()): RuleOutcome {
  const subject: RuleSubject = { ...input, data: { ...input.data }, tags: { ...input.tags } };
  const setBy: Record<string, string> = {};
  for (const rule of rules) {
    if (rule.filters !== "always" && !matchesFilters(subject as unknown as JsonObject, rule.filters, now)) continue;
    const { actions, collectorRuleId } = rule.row;
    if (actions.change_project) {
      subject.project_id = actions.change_project;
      setBy.project_id = collectorRuleId;
    }
    for (const [key, value] of Object.entries(actions.add_tags ?? {})) {
      subject.tags[key] = value;
      setBy[`tags.${key}`] = collectorRuleId;
    }
    for (const [key, value] of Object.entries(actions.change_data ?? {})) {
      if (value === null) delete subject.data[key];
      else subject.data[key] = value as JsonValue;
      setBy[`data.${key}`] = collectorRuleId;
    }
    if (rule.row.stopProcessing) break;
  }
  return { subject, setBy };
}

/** A collected resource in the writers' (camel-case) shape. */
export interface RuledResource {
  provider: string;
  cloudServiceType: string;
  cloudServiceGroup: string;
  cloudServiceName: string;
  account: string;
  projectId: string;
  reference: { resource_id: string; external_link: string };
  data: JsonObject;
  tags: Record<string, string>;
}

/** The resource as a rule sees it. */
export function ruleSubject(resource: RuledResource): RuleSubject {
  return {
    provider: resource.provider,
    cloud_service_type: resource.cloudServiceType,
    cloud_service_group: resource.cloudServiceGroup,
    name: resource.cloudServiceName,
    account: resource.account,
    project_id: resource.projectId,
    reference: { resource_id: resource.reference.resource_id, external_link: resource.reference.external_link },
    data: resource.data,
    tags: { ...resource.tags },
  };
}

/**
 * The rules applied to one collected resource: the fields they change and which rule set each key
 * (the change history's `rule_changes`); undefined when no rule changed anything.
 */
export function applyRulesToResource(
  rules: CompiledRule[],
  resource: RuledResource,
  now = new Date(),
): { projectId: string; data: JsonObject; tags: Record<string, string>; ruleChanges: Record<string, string> } | undefined {
  if (rules.length === 0) return undefined;
  const { subject, setBy } = applyRules(rules, ruleSubject(resource), now);
  if (Object.keys(setBy).length === 0) return undefined;
  return { projectId: subject.project_id, data: subject.data, tags: subject.tags, ruleChanges: setBy };
}

/** The keys a rule outcome really changes, with old and new values (a dry run's answer). */
export function changedKeys(before: RuleSubject, after: RuleOutcome): { key: string; before: JsonValue; after: JsonValue }[] {
  const valueAt = (subject: RuleSubject, key: string): JsonValue => {
    if (key === "project_id") return subject.project_id || null;
    const [field, name] = [key.slice(0, key.indexOf(".")), key.slice(key.indexOf(".") + 1)];
    const map = (field === "tags" ? subject.tags : subject.data) as JsonObject;
    return Object.hasOwn(map, name) ? map[name] : null;
  };
  return Object.keys(after.setBy)
    .sort()
    .map((key) => ({ key, before: valueAt(before, key), after: valueAt(after.subject, key) }))
    .filter((change) => JSON.stringify(change.before) !== JSON.stringify(change.after));
}
