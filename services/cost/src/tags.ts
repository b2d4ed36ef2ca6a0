import { invalidParameter } from "@cloudforet/errors";
import { isStorableText } from "./storable-text";

const tagKey = /^[\w.:/-]{1,128}$/;

/** Why a tag map is unacceptable (at most 100 tags, keys 1-128 of word characters . : / -, values ≤ 1024), or undefined. */
export function tagsProblem(tags: Record<string, string>, parameter = "tags"): { message: string; parameter: string; value?: string } | undefined {
  const entries = Object.entries(tags);
  if (entries.length > 100) return { message: "at most 100 tags", parameter };
  for (const [key, value] of entries) {
    if (!tagKey.test(key)) return { message: "tag keys are 1-128 of letters, digits, _ . : / -", parameter, value: key };
    if (value.length > 1024) return { message: "tag values are at most 1024 characters", parameter: `${parameter}.${key}` };
    if (!isStorableText(value)) return { message: "tag values must be valid text without NUL characters", parameter: `${parameter}.${key}` };
  }
  return undefined;
}

export function validateTags(tags: Record<string, string>): Record<string, string> {
  const problem = tagsProblem(tags);
  if (problem) throw invalidParameter(problem.message, { parameter: problem.parameter, value: problem.value });
  return tags;
}
