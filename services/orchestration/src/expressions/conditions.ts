import { ExpressionError, evaluateNode, parseExpression, type Node } from "./expression";
import { jsonEqual, resolvePath, splitPath, truthy, type EvaluationScope } from "./paths";

/**
 * Conditions of router routes, loops and `assert`: the engine's full expression grammar
 * (expression.ts: `count * 2 > threshold`, `(a || b) && !c`, `"true"`, `x in [1, 2]`), read in
 * seed 002's dialect — bare paths read context.data, a bare word that names nothing is text
 * (`plan == enterprise`). Seed conditions the grammar does not cover keep their seed reading:
 * a value that runs to the end of the term (`sender == noreply@orch8.io`, `status == in progress`).
 */
export type Condition = { kind: "expression"; node: Node } | LegacyCondition;

/**
 * Seed 002's own condition syntax: `path == value` or a bare `path` (truthy). Also `path != value`,
 * `<`, `<=`, `>`, `>=` on numbers, `!path`, and `&&` / `||` between terms (`&&` binds tighter). A
 * value is a quoted string, a number, true, false, null, or a bare word taken as a string.
 */
type LegacyCondition =
  | { kind: "or"; terms: LegacyCondition[] }
  | { kind: "and"; terms: LegacyCondition[] }
  | { kind: "truthy"; path: string; negate: boolean }
  | { kind: "compare"; path: string; op: CompareOp; value: Literal };

type CompareOp = "==" | "!=" | "<" | "<=" | ">" | ">=";

interface Literal {
  value: unknown;
  /** The literal as written (unquoted), for lenient equality with non-string data ("1" == 1). */
  text: string;
  bare: boolean;
}

/** A condition that does not parse; `position` is the character offset the parser stopped at. */
export class ConditionSyntaxError extends ExpressionError {
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

/** The legacy parser's own failures; only ever caught here (the grammar's error is the one reported). */
class LegacySyntaxError extends Error {}

function parseLiteral(raw: string): Literal {
  const text = raw.trim();
  if (text === "") throw new LegacySyntaxError("missing value after the operator");
  if (/^[=<>!]/.test(text)) throw new LegacySyntaxError(`unexpected ${JSON.stringify(text[0])} in the value ${JSON.stringify(text)}`);
  const quoted = /^(["'])(.*)\1$/s.exec(text);
  if (quoted) return { value: quoted[2].replace(/\\(.)/g, "$1"), text: quoted[2], bare: false };
  if (text === "true") return { value: true, text, bare: true };
  if (text === "false") return { value: false, text, bare: true };
  if (text === "null") return { value: null, text, bare: true };
  if (/^-?\d+(\.\d+)?([eE][-+]?\d+)?$/.test(text)) return { value: Number(text), text, bare: true };
  return { value: text, text, bare: true };
}

function parseTerm(raw: string): LegacyCondition {
  const text = raw.trim();
  if (text === "") throw new LegacySyntaxError("empty condition");
  const match = /^([^=!<>\s]+)\s*(==|!=|<=|>=|<|>)\s*(.*)$/s.exec(text);
  if (match) {
    const path = match[1];
    if (!splitPath(path)) throw new LegacySyntaxError(`bad path ${JSON.stringify(path)}`);
    return { kind: "compare", path, op: match[2] as CompareOp, value: parseLiteral(match[3]) };
  }
  const negate = text.startsWith("!");
  const path = negate ? text.slice(1).trim() : text;
  if (!splitPath(path) || /\s/.test(path)) throw new LegacySyntaxError(`expected "path", "!path" or "path == value", got ${JSON.stringify(text)}`);
  return { kind: "truthy", path, negate };
}

function parseLegacy(text: string): LegacyCondition {
  const ors = splitOutsideQuotes(text, "||").map((part) => {
    const ands = splitOutsideQuotes(part, "&&").map(parseTerm);
    return ands.length === 1 ? ands[0] : ({ kind: "and", terms: ands } as LegacyCondition);
  });
  return ors.length === 1 ? ors[0] : { kind: "or", terms: ors };
}

function tryLegacy(text: string): LegacyCondition | undefined {
  try {
    return parseLegacy(text);
  } catch (err) {
    if (err instanceof LegacySyntaxError) return undefined;
    throw err;
  }
}

/** A bare value the grammar reads as one operand, the same way (a word, a path, a number, a keyword). */
const ONE_OPERAND = /^(?:-?\d+(\.\d+)?([eE][-+]?\d+)?|[A-Za-z_$][\w$]*(?:\.[\w$:-]+|\[\d+\])*)$/;

/**
 * Whether the seed reading differs from the grammar's: some compared value is one unspaced word
 * the grammar would split (`in-progress`, `2024-01-01`, `a+b`). Spaced values (`1 + 1`, `a ? b : c`)
 * are the grammar's; spaced text the grammar cannot read (`free plan`) falls back to the seed's.
 */
function needsLegacyReading(condition: LegacyCondition): boolean {
  switch (condition.kind) {
    case "or":
    case "and":
      return condition.terms.some(needsLegacyReading);
    case "truthy":
      return false;
    case "compare":
      return condition.value.bare && !ONE_OPERAND.test(condition.value.text) && !/\s/.test(condition.value.text);
  }
}

export function parseCondition(text: string): Condition {
  if (typeof text !== "string" || text.trim() === "") throw new ConditionSyntaxError("empty condition", 0);
  const legacy = tryLegacy(text);
  if (legacy && needsLegacyReading(legacy)) return legacy;
  try {
    return { kind: "expression", node: parseExpression(text) };
  } catch (err) {
    if (legacy) return legacy;
    if (err instanceof ExpressionError) throw new ConditionSyntaxError(err.message.replace(/ \(at position \d+\)$/, ""), err.position);
    throw err;
  }
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
    case "expression":
      return truthy(evaluateNode(parsed.node, scope, "condition"));
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
