import { ConditionSyntaxError, evaluateCondition } from "../../expressions/conditions";
import { ExpressionError, evaluateExpression } from "../../expressions/expression";
import { assignContextPath, isValidPath } from "../../expressions/paths";
import { completed, isObject, permanent, type StepHandler, type StepInvocation } from "./handler";

const keyOf = (step: StepInvocation) => {
  const key = step.params.key;
  return typeof key === "string" && key !== "" ? key : undefined;
};

/** Instance-scoped key/value state: the engine saves it with the step's checkpoint. */
export const setState: StepHandler = {
  effects: "pure",
  async run(step) {
    const key = keyOf(step);
    if (!key) return permanent("set_state: `key` (string) is required");
    if (!("value" in step.params)) return permanent("set_state: `value` is required");
    step.state[key] = step.params.value;
    return completed({});
  },
};

export const getState: StepHandler = {
  effects: "pure",
  async run(step) {
    const key = keyOf(step);
    if (!key) return permanent("get_state: `key` (string) is required");
    return completed({ value: step.state[key] ?? null });
  },
};

export const deleteState: StepHandler = {
  effects: "pure",
  async run(step) {
    const key = keyOf(step);
    if (!key) return permanent("delete_state: `key` (string) is required");
    delete step.state[key];
    return completed({});
  },
};

export const mergeState: StepHandler = {
  effects: "pure",
  async run(step) {
    const data = step.params.data ?? step.params.values;
    if (!isObject(data)) return permanent("merge_state: `data` (object) is required");
    Object.assign(step.state, data);
    return completed({});
  },
};

/** Evaluates `expression`; with `target`, also writes the result to context.data.<target>. */
export const transform: StepHandler = {
  effects: "pure",
  async run(step) {
    const { expression, target } = step.params;
    if (typeof expression !== "string") return permanent("transform: `expression` (string) is required");
    if (target !== undefined && (typeof target !== "string" || !isValidPath(target))) return permanent("transform: `target` must be a path under context.data");
    let result: unknown;
    try {
      result = evaluateExpression(expression, step.scope);
    } catch (err) {
      if (err instanceof ExpressionError) return permanent(`transform: ${err.message}`);
      throw err;
    }
    if (typeof target === "string") {
      try {
        assignContextPath(step.context, target, result);
      } catch (err) {
        return permanent(`transform: ${(err as Error).message}`);
      }
    }
    return completed({ result });
  },
};

/** Fails the step (permanently) unless `condition` holds, with the router's condition syntax. */
export const assert: StepHandler = {
  effects: "pure",
  async run(step) {
    const { condition, message } = step.params;
    if (typeof condition !== "string") return permanent("assert: `condition` (string) is required");
    let holds: boolean;
    try {
      holds = evaluateCondition(condition, step.scope);
    } catch (err) {
      if (err instanceof ConditionSyntaxError) return permanent(`assert: bad condition: ${err.message}`);
      throw err;
    }
    if (holds) return completed({});
    return permanent(typeof message === "string" && message !== "" ? message : `assertion failed: ${condition}`);
  },
};
