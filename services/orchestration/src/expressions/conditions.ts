import { jsonEqual, resolvePath, splitPath, truthy, type EvaluationScope } from "./paths";

/**
 * Conditions of router routes, loops and `assert` (seed 002): `path == value` or a bare `path`
 * (truthy), read from context.data. Also `path != value`, `<`, `<=`, `>`, `>=` on numbers,
 * `!path`, and `&&` / `||` between terms (`&&` binds tighter; no parentheses). A value is a quoted
 * string, a number, true, false, null, or a bare word taken as a string (`plan == enterprise`).
 */
export type Condition =
  | { kind: "or"; terms: Condition[] }
  | { kind: "and"; terms: Condition[] }
  | { kind: "truthy"; path: string; negate: boolean }
  | { kind: "compare"; path: string; op: CompareOp; value: Literal };

type CompareOp = "==" | "!=" | "<" | "<=" | ">" | ">=";

interface Literal {
  value: unknown;
  /** The literal as written (unquoted), for lenient equality with non-string data ("1" == 1). */
  text: string;
  bare: boolean;
}

export class ConditionSyntaxError extends Error {
  override name = "ConditionSyntaxError";
}

/** Splits on `separator` outside of quotes. */
function splitOutsideQuotes(text: string, separator: string): string[] {
  const parts: string[] = [];
  let quote: string | undefined;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quote) {
      if (ch === "\\") i++;
      else if (ch === quote) quote = undefined;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
    } else if (text.startsWith(separator, i)) {
      parts.push(text.slice(start, i));
      i += separator.length - 1;
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts;
}

function parseLiteral(raw: string): Literal {
  const text = raw.trim();
  if (text === "") throw new ConditionSyntaxError("missing value after the operator");
  if (/^[=<>!]/.test(text)) throw new ConditionSyntaxError(`unexpected ${JSON.stringify(text[0])} in the value ${JSON.stringify(text)}`);
  const quoted = /^(["'])(.*)\1$/s.exec(text);
  if (quoted) return { value: quoted[2].replace(/\\(.)/g, "$1"), text: quoted[2], bare: false };
  if (text === "true") return { value: true, text, bare: true };
  if (text === "false") return { value: false, text, bare: true };
  if (text === "null") return { value: null, text, bare: true };
  if (/^-?\d+(\.\d+)?([eE][-+]?\d+)?$/.test(text)) return { value: Number(text), text, bare: true };
  return { value: text, text, bare: true };
}

function parseTerm(raw: string): Condition {
  const text = raw.trim();
  if (text === "") throw new ConditionSyntaxError("empty condition");
  const match = /^([^=!<>\s]+)\s*(==|!=|<=|>=|<|>)\s*(.*)$/s.exec(text);
  if (match) {
    const path = match[1];
    if (!splitPath(path)) throw new ConditionSyntaxError(`bad path ${JSON.stringify(path)}`);
    return { kind: "compare", path, op: match[2] as CompareOp, value: parseLiteral(match[3]) };
  }
  const negate = text.startsWith("!");
  const path = negate ? text.slice(1).trim() : text;
  if (!splitPath(path) || /\s/.test(path)) throw new ConditionSyntaxError(`expected "path", "!path" or "path == value", got ${JSON.stringify(text)}`);
  return { kind: "truthy", path, negate };
}

export function parseCondition(text: string): Condition {
  if (typeof text !== "string" || text.trim() === "") throw new ConditionSyntaxError("empty condition");
  const ors = splitOutsideQuotes(text, "||").map((part) => {
    const ands = splitOutsideQuotes(part, "&&").map(parseTerm);
    return ands.length === 1 ? ands[0] : ({ kind: "and", terms: ands } as Condition);
  });
  return ors.length === 1 ? ors[0] : { kind: "or", terms: ors };
}

function compare(actual: unknown, op: CompareOp, literal: Literal): boolean {
  const equal = () => jsonEqual(actual, literal.value) || (literal.bare && actual !== undefined && actual !== null && typeof actual !== "object" && String(actual) === literal.text);
  switch (op) {
    case "==":
      return equal();
    case "!=":
      return !equal();
    default: {
      const a = typeof actual === "string" && actual.trim() !== "" ? Number(actual) : actual;
      const b = literal.value;
      if (typeof a !== "number" || typeof b !== "number" || Number.isNaN(a)) return false;
      return op === "<" ? a < b : op === "<=" ? a <= b : op === ">" ? a > b : a >= b;
    }
  }
}

export function evaluateCondition(condition: Condition | string, scope: EvaluationScope): boolean {
  const parsed = typeof condition === "string" ? parseCondition(condition) : condition;
  switch (parsed.kind) {
    case "or":
      return parsed.terms.some((t) => evaluateCondition(t, scope));
    case "and":
      return parsed.terms.every((t) => evaluateCondition(t, scope));
    case "truthy":
      return truthy(resolvePath(scope, parsed.path)) !== parsed.negate;
    case "compare":
      return compare(resolvePath(scope, parsed.path), parsed.op, parsed.value);
  }
}
