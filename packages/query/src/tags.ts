import { invalidParameter } from "@cloudforet/errors";
import { isStorableText } from "./storable-text";

/** The tag rules every service shares: at most 100 tags, short keys of word characters, short storable values. */
export const TAG_LIMITS = { count: 100, keyLength: 128, valueLength: 1024 } as const;

const tagKey = /^[\w.:/-]{1,128}$/;

/** Why a tag map breaks the rules, for a per-item batch error; undefined when it keeps them. */
export interface TagsProblem {
  message: string;
  parameter: string;
  value?: string;
}

/** The first rule the tag map breaks, or undefined. */
export function tagsProblem(tags: Record<string, string>, parameter = "tags"): TagsProblem | undefined {
  const entries = Object.entries(tags);
  if (entries.length > TAG_LIMITS.count) return { message: `at most ${TAG_LIMITS.count} tags`, parameter };
  for (const [key, value] of entries) {
    if (!tagKey.test(key)) return { message: "tag keys are 1-128 of letters, digits, _ . : / -", parameter, value: key.slice(0, TAG_LIMITS.keyLength) };
    if (value.length > TAG_LIMITS.valueLength) return { message: `tag values are at most ${TAG_LIMITS.valueLength} characters`, parameter: `${parameter}.${key}` };
    if (!isStorableText(value)) return { message: "tag values must be valid text without NUL characters", parameter: `${parameter}.${key}` };
  }
  return undefined;
}

/** The tags, or ERROR_INVALID_PARAMETER naming the first rule they break. */
export function validateTags(tags: Record<string, string>, parameter = "tags"): Record<string, string> {
  const problem = tagsProblem(tags, parameter);
  if (problem) throw invalidParameter(problem.message, { parameter: problem.parameter, value: problem.value });
  return tags;
}

/**
 * Update semantics of every `tags` + `remove_tags` pair: set these keys, then drop those. The result
 * is held to the same rules as a new tag map, so what is stored always keeps them.
 */
export function mergeTags(current: Record<string, string>, set: Record<string, string>, remove: readonly string[], parameter = "tags"): Record<string, string> {
  const merged: Record<string, string> = { ...current, ...validateTags(set, parameter) };
  for (const key of remove) delete merged[key];
  return validateTags(merged, parameter);
}
