import type { JsonObject } from "@bufbuild/protobuf";
import { invalidParameter } from "@cloudforet/errors";
import { CONDITION_KEYS, CONDITIONS_POLICIES, readMatchFilterList, validateTags, type ConditionsPolicy } from "@cloudforet/query";
import type { RuleActions, RuleCondition } from "../db/schema";
import { validateId, validateOptions } from "../collectors/collectors";

/**
 * Collector rules (CloudForet's): ordered conditions and actions applied to collected resources
 * before they are written. Checking a rule's input is inventory's (here); compiling and applying
 * rules is shared with cloud-service, which applies them to push collections (@cloudforet/query's
 * collector-rules).
 */

const LIMITS = { conditions: 20, dataKeys: 50, name: 255 };
const dataKeyPattern = /^[A-Za-z0-9_-]{1,128}$/;

/** A rule's checked conditions, policy and actions. */
export interface RuleDefinition {
  conditions: RuleCondition[];
  conditionsPolicy: ConditionsPolicy;
  actions: RuleActions;
}

export function validateConditions(conditions: RuleCondition[]): RuleCondition[] {
  if (conditions.length > LIMITS.conditions) throw invalidParameter(`at most ${LIMITS.conditions} conditions`, { parameter: "conditions" });
  readMatchFilterList(conditions, { keys: CONDITION_KEYS, parameter: "conditions" });
  return conditions.map((c) => ({ k: c.k, v: c.v ?? null, o: c.o || "eq" }));
}

export function validatePolicy(policy: string): ConditionsPolicy {
  const value = policy || "ALL";
  if (!(CONDITIONS_POLICIES as readonly string[]).includes(value)) {
    throw invalidParameter("conditions_policy must be ALL, ANY or ALWAYS", { parameter: "conditions_policy", value: value.slice(0, 40) });
  }
  return value as ConditionsPolicy;
}

/** Actions: at least one; a project id, tags and top-level data keys, each checked. */
export function validateActions(actions: { changeProject: string; addTags: Record<string, string>; changeData?: JsonObject } | undefined): RuleActions {
  const result: RuleActions = {};
  if (!actions) throw invalidParameter("actions is required: change_project, add_tags or change_data", { parameter: "actions" });
  if (actions.changeProject) result.change_project = validateId("actions.change_project", actions.changeProject);
  if (Object.keys(actions.addTags).length > 0) {
    result.add_tags = validateTags(actions.addTags, "actions.add_tags");
  }
  const data = actions.changeData ?? {};
  if (Object.keys(data).length > 0) {
    if (Object.keys(data).length > LIMITS.dataKeys) throw invalidParameter(`actions.change_data sets at most ${LIMITS.dataKeys} keys`, { parameter: "actions.change_data" });
    for (const key of Object.keys(data)) {
      if (!dataKeyPattern.test(key)) throw invalidParameter("actions.change_data keys are letters, digits, _ and -", { parameter: "actions.change_data", value: key.slice(0, 128) });
    }
    result.change_data = validateOptions(data, "actions.change_data");
  }
  if (!result.change_project && !result.add_tags && !result.change_data) {
    throw invalidParameter("actions is empty: set change_project, add_tags or change_data", { parameter: "actions" });
  }
  return result;
}

export function validateRuleName(name: string): string {
  if (name.length > LIMITS.name || name.includes("\u0000")) throw invalidParameter(`name must be at most ${LIMITS.name} characters`, { parameter: "name" });
  return name;
}
