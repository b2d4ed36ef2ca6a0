import { QUERY_LIMITS } from "./limits";

/** Postgres's largest repetition count (RE_DUP_MAX). */
const maxRepetition = 255;
/** A rough size of the compiled automaton past which Postgres says "too complex". */
const maxWeight = 5000;

/**
 * Why Postgres's `~` would refuse a pattern, or undefined when it will accept it.
 *
 * The pattern must compile as a JavaScript regex in unicode mode (which rejects stray
 * escapes and unbalanced syntax) and avoid what Postgres's engine lacks or limits:
 * back-references, named groups, `\p{…}`, `\k<…>`, `\u{…}`, surrogate escapes, empty
 * classes (`[]`, `[^]`), repetition counts over 255 and nested counts that blow up.
 */
export function regexProblem(pattern: string): string | undefined {
  if (pattern.length > QUERY_LIMITS.maxRegexLength) {
    return `A regex may have at most ${QUERY_LIMITS.maxRegexLength} characters`;
  }
  try {
    new RegExp(pattern, "u");
  } catch {
    return "Not a valid regular expression";
  }
  return scan(pattern);
}

function scan(pattern: string): string | undefined {
  const enclosing: number[] = [];
  let weight = 0;
  let lastAtom = 0;
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const char = pattern[i];
    if (char === "\\") {
      const problem = escapeProblem(pattern, i + 1);
      if (problem) return problem;
      i++;
      if (!inClass) [weight, lastAtom] = [weight + 1, 1];
      continue;
    }
    if (inClass) {
      if (char === "]") inClass = false;
      continue;
    }
    switch (char) {
      case "[": {
        const first = pattern[i + 1] === "^" ? i + 2 : i + 1;
        if (pattern[first] === "]") return "Empty character classes ([] or [^]) are not supported";
        inClass = true;
        i = first - 1;
        [weight, lastAtom] = [weight + 1, 1];
        break;
      }
      case "(":
        if (pattern.startsWith("(?<", i) && !["=", "!"].includes(pattern[i + 3])) {
          return "Named groups are not supported";
        }
        enclosing.push(weight);
        weight = 0;
        break;
      case ")": {
        const group = weight;
        weight = (enclosing.pop() ?? 0) + group;
        lastAtom = group;
        break;
      }
      case "{": {
        const counted = /^\{(\d+)(?:,(\d*))?\}/.exec(pattern.slice(i));
        if (!counted) return "Not a valid repetition";
        const low = Number(counted[1]);
        const high = counted[2] ? Number(counted[2]) : low;
        if (low > maxRepetition || high > maxRepetition) return `Repetition counts may not exceed ${maxRepetition}`;
        weight += lastAtom * Math.max(high - 1, 0);
        lastAtom *= Math.max(high, 1);
        i += counted[0].length - 1;
        break;
      }
      case "*":
      case "+":
      case "?":
      case "|":
      case "^":
      case "$":
        break;
      default:
        [weight, lastAtom] = [weight + 1, 1];
    }
    if (weight > maxWeight || lastAtom > maxWeight) return "The regular expression is too complex";
  }
  return undefined;
}

function escapeProblem(pattern: string, at: number): string | undefined {
  const next = pattern[at];
  if (/[1-9]/.test(next)) return "Back-references are not supported";
  if (next === "p" || next === "P" || next === "k") return `\\${next} is not supported`;
  if (next === "u") {
    if (pattern[at + 1] === "{") return "\\u{…} escapes are not supported";
    const code = parseInt(pattern.slice(at + 1, at + 5), 16);
    if (code >= 0xd800 && code <= 0xdfff) return "Surrogate escapes are not supported";
  }
  return undefined;
}
