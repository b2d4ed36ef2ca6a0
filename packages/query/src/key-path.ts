import { invalidQuery } from "./invalid-query";
import { QUERY_LIMITS } from "./limits";

const segmentPattern = /^[A-Za-z0-9_\-]+$/;

/**
 * Splits a key (`data.cluster`, `tags.environment`, `data.a.b.c`) into segments, each of
 * letters, digits, `_` and `-` only, at most `maxDepth` after the field name. Anything else
 * (quotes, spaces, `;`, empty segments) is INVALID_ARGUMENT naming `parameter`.
 */
export function parseKeyPath(key: string, parameter: string, maxDepth: number = QUERY_LIMITS.maxPathDepth): string[] {
  if (key.length === 0 || key.length > QUERY_LIMITS.maxKeyLength) {
    throw invalidQuery(parameter, `A key must have 1 to ${QUERY_LIMITS.maxKeyLength} characters`, key);
  }
  const segments = key.split(".");
  for (const segment of segments) {
    if (!segmentPattern.test(segment)) {
      throw invalidQuery(parameter, "A key is dot-separated names of letters, digits, _ and -", key);
    }
  }
  if (segments.length - 1 > maxDepth) {
    throw invalidQuery(parameter, `A key may go at most ${maxDepth} levels into a JSON field`, key);
  }
  return segments;
}

export const isKeySegment = (segment: string) => segmentPattern.test(segment);
