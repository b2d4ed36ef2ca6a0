import { invalidParameter } from "@cloudforet/errors";
import { ConditionSyntaxError, parseCondition } from "../expressions/conditions";
import { isValidPath } from "../expressions/paths";
import { BLOCK_TYPES, type Block, type BlockType } from "./blocks";
import { parseDuration } from "./durations";

const BLOCK_ID = /^[A-Za-z0-9_][A-Za-z0-9_.:-]{0,127}$/;
const HANDLER_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.:/-]{0,127}$/;
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
const MAX_DEPTH = 64;
const MAX_BLOCKS = 10_000;

/** Fields each block type may carry (besides `type`, `id` and the free-form `description`). */
const FIELDS: Record<BlockType, string[]> = {
  step: ["handler", "params", "delay", "retry", "timeout", "rate_limit_key", "queue_name", "cancellable"],
  parallel: ["branches"],
  race: ["branches", "semantics"],
  router: ["routes", "default"],
  try_catch: ["try_block", "catch_block", "finally_block"],
  loop: ["condition", "body", "max_iterations"],
  for_each: ["collection", "item_var", "body", "max_iterations"],
  ab_split: ["variants"],
  a_b_split: ["variants"],
  cancellation_scope: ["blocks"],
  sub_sequence: ["sequence_name", "version", "input"],
};

const QUEUE_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.:/-]{0,127}$/;
const HOLIDAY = /^\d{4}-\d{2}-\d{2}$/;
const MAX_HOLIDAYS = 1_000;

/** "2024-12-25" names a real calendar date. */
function isCalendarDate(text: string): boolean {
  const at = new Date(`${text}T00:00:00Z`);
  return HOLIDAY.test(text) && !Number.isNaN(at.getTime()) && at.toISOString().startsWith(text);
}

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => v !== null && typeof v === "object" && !Array.isArray(v);

class DefinitionValidator {
  private count = 0;
  constructor(private readonly seen: Set<string>) {}

  private fail(path: string, blockId: string | undefined, message: string): never {
    throw invalidParameter(blockId ? `block "${blockId}": ${message}` : message, { parameter: path, ...(blockId ? { block_id: blockId } : {}) });
  }

  /** A list of blocks; empty lists are accepted, as the engine accepts them (they complete at once). */
  list(value: unknown, path: string, owner: string | undefined, depth: number): Block[] {
    if (!Array.isArray(value)) this.fail(path, owner, `${path} must be an array of blocks`);
    if (depth > MAX_DEPTH) this.fail(path, owner, `blocks nest deeper than ${MAX_DEPTH} levels`);
    return value.map((block, i) => this.block(block, `${path}[${i}]`, depth));
  }

  private block(value: unknown, path: string, depth: number): Block {
    if (!isObject(value)) this.fail(path, undefined, `${path} must be a block object`);
    if (++this.count > MAX_BLOCKS) this.fail(path, undefined, `a sequence has at most ${MAX_BLOCKS} blocks`);
    const id = value.id;
    if (typeof id !== "string" || id === "") this.fail(`${path}.id`, undefined, `${path}.id is required`);
    if (!BLOCK_ID.test(id)) this.fail(`${path}.id`, id, "id must be 1-128 letters, digits, _ . : -");
    if (this.seen.has(id)) this.fail(`${path}.id`, id, "duplicate block id");
    this.seen.add(id);
    const type = value.type as BlockType;
    if (typeof value.type !== "string" || !BLOCK_TYPES.includes(type)) {
      this.fail(`${path}.type`, id, `unknown block type ${JSON.stringify(value.type)} (one of ${BLOCK_TYPES.join(", ")})`);
    }
    for (const key of Object.keys(value)) {
      if (key !== "type" && key !== "id" && key !== "description" && !FIELDS[type].includes(key)) {
        this.fail(`${path}.${key}`, id, `unknown field "${key}" for a ${type} block`);
      }
    }
    const sub = (field: string) => this.list(value[field], `${path}.${field}`, id, depth + 1);
    const optionalSub = (field: string) => (value[field] === undefined || value[field] === null ? undefined : sub(field));
    switch (type) {
      case "step":
        return this.step(value, path, id);
      case "parallel":
      case "race": {
        if (!Array.isArray(value.branches)) this.fail(`${path}.branches`, id, "branches must be an array of block lists");
        const branches = value.branches.map((b, i) => this.list(b, `${path}.branches[${i}]`, id, depth + 1));
        if (type === "parallel") return { type, id, branches };
        const semantics = value.semantics ?? "first_to_resolve";
        if (semantics !== "first_to_resolve" && semantics !== "first_to_succeed") this.fail(`${path}.semantics`, id, 'semantics must be "first_to_resolve" or "first_to_succeed"');
        return { type, id, branches, semantics };
      }
      case "router": {
        if (!Array.isArray(value.routes)) this.fail(`${path}.routes`, id, "routes must be an array");
        const routes = value.routes.map((route, i) => {
          const at = `${path}.routes[${i}]`;
          if (!isObject(route)) this.fail(at, id, `${at} must be an object with condition and blocks`);
          for (const key of Object.keys(route)) if (key !== "condition" && key !== "blocks") this.fail(`${at}.${key}`, id, `unknown field "${key}" in a route`);
          return { condition: this.condition(route.condition, `${at}.condition`, id), blocks: this.list(route.blocks, `${at}.blocks`, id, depth + 1) };
        });
        const fallback = value.default === undefined || value.default === null ? undefined : sub("default");
        return { type, id, routes, ...(fallback ? { default: fallback } : {}) };
      }
      case "try_catch": {
        const catchBlock = optionalSub("catch_block");
        const finallyBlock = optionalSub("finally_block");
        return { type, id, try_block: sub("try_block"), ...(catchBlock ? { catch_block: catchBlock } : {}), ...(finallyBlock ? { finally_block: finallyBlock } : {}) };
      }
      case "loop":
        return { type, id, condition: this.condition(value.condition, `${path}.condition`, id), body: sub("body"), ...this.maxIterations(value, path, id) };
      case "for_each": {
        if (typeof value.collection !== "string" || !isValidPath(value.collection)) this.fail(`${path}.collection`, id, "collection must be a path into context.data (e.g. \"items\")");
        const itemVar = value.item_var ?? "item";
        if (typeof itemVar !== "string" || !IDENTIFIER.test(itemVar)) this.fail(`${path}.item_var`, id, "item_var must be an identifier");
        return { type, id, collection: value.collection, item_var: itemVar, body: sub("body"), ...this.maxIterations(value, path, id) };
      }
      case "ab_split":
      case "a_b_split": {
        if (!Array.isArray(value.variants) || value.variants.length === 0) this.fail(`${path}.variants`, id, "variants must be a non-empty array");
        const names = new Set<string>();
        const variants = value.variants.map((variant, i) => {
          const at = `${path}.variants[${i}]`;
          if (!isObject(variant)) this.fail(at, id, `${at} must be an object with name, weight and blocks`);
          for (const key of Object.keys(variant)) if (!["name", "weight", "blocks"].includes(key)) this.fail(`${at}.${key}`, id, `unknown field "${key}" in a variant`);
          if (typeof variant.name !== "string" || variant.name === "") this.fail(`${at}.name`, id, "variant name is required");
          if (names.has(variant.name)) this.fail(`${at}.name`, id, `duplicate variant name "${variant.name}"`);
          names.add(variant.name);
          if (typeof variant.weight !== "number" || !Number.isFinite(variant.weight) || variant.weight < 0) this.fail(`${at}.weight`, id, "weight must be a number ≥ 0");
          return { name: variant.name, weight: variant.weight, blocks: this.list(variant.blocks, `${at}.blocks`, id, depth + 1) };
        });
        if (variants.every((v) => v.weight === 0)) this.fail(`${path}.variants`, id, "at least one variant needs a positive weight");
        return { type, id, variants };
      }
      case "cancellation_scope":
        return { type, id, blocks: sub("blocks") };
      case "sub_sequence":
        return this.subSequence(value, path, id);
    }
  }

  private step(value: Json, path: string, id: string): Block {
    const handler = value.handler;
    if (typeof handler !== "string" || handler === "") this.fail(`${path}.handler`, id, "a step needs a handler");
    if (!HANDLER_NAME.test(handler)) this.fail(`${path}.handler`, id, "handler must be 1-128 letters, digits, _ . : / -");
    if (value.params !== undefined && value.params !== null && !isObject(value.params)) this.fail(`${path}.params`, id, "params must be an object");
    const step: Block = { type: "step", id, handler, params: (value.params as Json | undefined) ?? {} };
    if (value.delay !== undefined && value.delay !== null) {
      const delay = value.delay;
      if (!isObject(delay)) this.fail(`${path}.delay`, id, "delay must be an object with a duration");
      for (const key of Object.keys(delay)) if (!["duration", "business_days_only", "jitter", "holidays"].includes(key)) this.fail(`${path}.delay.${key}`, id, `unknown field "${key}" in delay`);
      this.duration(delay.duration, `${path}.delay.duration`, id, true);
      if (delay.jitter !== undefined) this.duration(delay.jitter, `${path}.delay.jitter`, id, false);
      if (delay.business_days_only !== undefined && typeof delay.business_days_only !== "boolean") this.fail(`${path}.delay.business_days_only`, id, "business_days_only must be a boolean");
      if (delay.holidays !== undefined && delay.holidays !== null) this.holidays(delay.holidays, `${path}.delay.holidays`, id);
      step.delay = delay as unknown as NonNullable<typeof step.delay>;
    }
    if (value.retry !== undefined && value.retry !== null) {
      const retry = value.retry;
      if (!isObject(retry)) this.fail(`${path}.retry`, id, "retry must be an object");
      for (const key of Object.keys(retry)) {
        if (!["max_attempts", "initial_backoff", "max_backoff", "backoff_multiplier"].includes(key)) this.fail(`${path}.retry.${key}`, id, `unknown field "${key}" in retry`);
      }
      if (retry.max_attempts !== undefined && (!Number.isInteger(retry.max_attempts) || (retry.max_attempts as number) < 1 || (retry.max_attempts as number) > 100)) {
        this.fail(`${path}.retry.max_attempts`, id, "max_attempts must be an integer from 1 to 100");
      }
      if (retry.initial_backoff !== undefined) this.duration(retry.initial_backoff, `${path}.retry.initial_backoff`, id, false);
      if (retry.max_backoff !== undefined) this.duration(retry.max_backoff, `${path}.retry.max_backoff`, id, false);
      if (retry.backoff_multiplier !== undefined && (typeof retry.backoff_multiplier !== "number" || retry.backoff_multiplier < 1 || retry.backoff_multiplier > 100)) {
        this.fail(`${path}.retry.backoff_multiplier`, id, "backoff_multiplier must be a number from 1 to 100");
      }
      step.retry = retry as NonNullable<typeof step.retry>;
    }
    if (value.timeout !== undefined && value.timeout !== null) {
      this.duration(value.timeout, `${path}.timeout`, id, true);
      step.timeout = value.timeout as string | number;
    }
    if (value.rate_limit_key !== undefined && value.rate_limit_key !== null) {
      if (typeof value.rate_limit_key !== "string" || value.rate_limit_key === "") this.fail(`${path}.rate_limit_key`, id, "rate_limit_key must be a non-empty string");
      step.rate_limit_key = value.rate_limit_key;
    }
    if (value.queue_name !== undefined && value.queue_name !== null) {
      if (typeof value.queue_name !== "string" || !QUEUE_NAME.test(value.queue_name)) this.fail(`${path}.queue_name`, id, "queue_name must be 1-128 letters, digits, _ . : / -");
      step.queue_name = value.queue_name;
    }
    if (value.cancellable !== undefined && value.cancellable !== null) {
      if (typeof value.cancellable !== "boolean") this.fail(`${path}.cancellable`, id, "cancellable must be a boolean");
      step.cancellable = value.cancellable;
    }
    return step;
  }

  private subSequence(value: Json, path: string, id: string): Block {
    const { sequence_name: name, version, input } = value;
    if (typeof name !== "string" || name.trim() === "" || name.length > 256) this.fail(`${path}.sequence_name`, id, "sub_sequence needs a sequence_name (1-256 characters)");
    if (version !== undefined && version !== null && (!Number.isInteger(version) || (version as number) < 1)) this.fail(`${path}.version`, id, "version must be a positive integer");
    if (input !== undefined && input !== null && !isObject(input)) this.fail(`${path}.input`, id, "input must be an object (the child's context.data)");
    return { type: "sub_sequence", id, sequence_name: name, ...(typeof version === "number" ? { version } : {}), input: (input as Json | undefined) ?? {} };
  }

  private holidays(value: unknown, path: string, id: string): void {
    if (!Array.isArray(value) || value.length > MAX_HOLIDAYS) this.fail(path, id, `holidays must be an array of at most ${MAX_HOLIDAYS} dates (YYYY-MM-DD)`);
    value.forEach((day, i) => {
      if (typeof day !== "string" || !isCalendarDate(day)) this.fail(`${path}[${i}]`, id, `${JSON.stringify(day)} is not a date (YYYY-MM-DD)`);
    });
  }

  /** A duration: seed text ("30s") or the engine's integer milliseconds (30000). */
  private duration(value: unknown, path: string, id: string, positive: boolean): number {
    const ms = typeof value === "string" || typeof value === "number" ? parseDuration(value) : undefined;
    if (ms === undefined) this.fail(path, id, `${JSON.stringify(value ?? null)} is not a duration (use e.g. "500ms", "30s", "1m", "2h", "1d", or integer milliseconds)`);
    if (positive && ms <= 0) this.fail(path, id, "duration must be greater than zero");
    return ms;
  }

  private condition(value: unknown, path: string, id: string): string {
    if (typeof value !== "string") this.fail(path, id, "condition must be a string");
    try {
      parseCondition(value);
    } catch (err) {
      if (err instanceof ConditionSyntaxError) {
        throw invalidParameter(`block "${id}": bad condition: ${err.message}`, { parameter: path, block_id: id, position: String(err.position) });
      }
      throw err;
    }
    return value;
  }

  private maxIterations(value: Json, path: string, id: string): { max_iterations?: number } {
    const max = value.max_iterations;
    if (max === undefined || max === null) return {};
    if (!Number.isInteger(max) || (max as number) < 1 || (max as number) > 1_000_000) this.fail(`${path}.max_iterations`, id, "max_iterations must be an integer from 1 to 1000000");
    return { max_iterations: max as number };
  }
}

/**
 * Validates a sequence's block tree and returns it normalised (defaults filled: race semantics,
 * for_each item_var, step params). ERROR_INVALID_PARAMETER naming the path and the block id for an
 * unknown block type, a missing or duplicate id (anywhere in the tree), an empty list of blocks,
 * a bad duration, retry policy or condition, or a field the block type does not have.
 */
export function validateDefinition(blocks: unknown, path = "blocks"): Block[] {
  return new DefinitionValidator(new Set()).list(blocks, path, undefined, 0);
}

/** Validates blocks injected at run time (self_modify): their ids must not clash with `existingIds`. */
export function validateInjectedBlocks(blocks: unknown, existingIds: Iterable<string>): Block[] {
  return new DefinitionValidator(new Set(existingIds)).list(blocks, "params.blocks", undefined, 0);
}
