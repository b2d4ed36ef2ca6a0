// Over 300 lines: one tokenizer, one recursive-descent parser and one evaluator of the same
// grammar; conditions, loops and `transform` share them, so they are kept together.
import { jsonEqual, resolveSegments, splitPath, truthy, type EvaluationScope } from "./paths";

/**
 * The expression language of conditions (router, loop, assert) and of the `transform` handler,
 * the Orch8 engine's grammar: JSON literals (numbers, 'single' or "double" quoted strings, true,
 * false, null), paths (`context.data.a`, `outputs.step.field`, `items[0]`, `data["a key"]`; a path
 * without a root reads context.data), `+ - * / %`, `== != < <= > >=`, `x in [..]`, `&& || !`,
 * `a ? b : c`, parentheses, array literals and functions (len, abs, keys, contains, …).
 * Parsing only ever throws ExpressionError, which names the position (0-based character offset).
 */
export class ExpressionError extends Error {
  override name = "ExpressionError";
  constructor(
    message: string,
    readonly position: number,
  ) {
    super(`${message} (at position ${position})`);
  }
}

/** Longest expression accepted, in characters. */
export const MAX_EXPRESSION_LENGTH = 4_096;
/** Deepest nesting of sub-expressions accepted (the engine's limit). */
export const MAX_EXPRESSION_DEPTH = 64;

type Token =
  | { kind: "num"; value: number; at: number }
  | { kind: "str"; value: string; at: number }
  | { kind: "path"; value: string; at: number }
  | { kind: "op"; value: string; at: number };

export type Node =
  | { kind: "lit"; value: unknown }
  /** `bare`: a single word without a root (`enterprise`), which seed conditions read as text when missing. */
  | { kind: "path"; path: string; segments: string[]; bare: boolean }
  | { kind: "unary"; op: string; arg: Node }
  | { kind: "binary"; op: string; left: Node; right: Node }
  | { kind: "cond"; test: Node; then: Node; else: Node }
  | { kind: "call"; name: string; args: Node[] }
  | { kind: "array"; items: Node[] };

const OPERATORS = ["&&", "||", "==", "!=", "<=", ">=", "<", ">", "+", "-", "*", "/", "%", "!", "(", ")", "[", "]", ",", "?", ":"];
const NUMBER = /^\d+(\.\d+)?([eE][-+]?\d+)?/;
/** A path: a name, then `.name` (dashes and colons allowed, as seed paths have), `[0]` or `["key"]`. */
const PATH = /^[A-Za-z_$][\w$]*(?:\.[\w$:-]+|\[\d+\]|\[\s*"(?:\\.|[^"\\])*"\s*\]|\[\s*'(?:\\.|[^'\\])*'\s*\])*/;
const KEYWORDS: Record<string, unknown> = { true: true, false: false, null: null };

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const ch = text[i];
    if (/\s/.test(ch)) {
      i++;
      continue;
    }
    const rest = text.slice(i);
    const number = NUMBER.exec(rest);
    if (number) {
      tokens.push({ kind: "num", value: Number(number[0]), at: i });
      i += number[0].length;
      continue;
    }
    if (ch === '"' || ch === "'") {
      let value = "";
      let j = i + 1;
      for (; j < text.length && text[j] !== ch; j++) {
        if (text[j] === "\\" && j + 1 < text.length) {
          j++;
          value += text[j] === "n" ? "\n" : text[j] === "t" ? "\t" : text[j];
        } else value += text[j];
      }
      if (j >= text.length) throw new ExpressionError("unterminated string", i);
      tokens.push({ kind: "str", value, at: i });
      i = j + 1;
      continue;
    }
    const path = PATH.exec(rest);
    if (path) {
      tokens.push({ kind: "path", value: path[0], at: i });
      i += path[0].length;
      continue;
    }
    const op = OPERATORS.find((o) => text.startsWith(o, i));
    if (!op) throw new ExpressionError(`unexpected character ${JSON.stringify(ch)}`, i);
    tokens.push({ kind: "op", value: op, at: i });
    i += op.length;
  }
  return tokens;
}

class Parser {
  private position = 0;
  private depth = 0;
  constructor(
    private readonly tokens: Token[],
    private readonly length: number,
  ) {}

  parse(): Node {
    const node = this.ternary();
    const extra = this.tokens[this.position];
    if (extra) throw new ExpressionError(`unexpected ${describe(extra)}`, extra.at);
    return node;
  }

  private here(): number {
    return this.tokens[this.position]?.at ?? this.length;
  }

  private peekOp(...ops: string[]): string | undefined {
    const token = this.tokens[this.position];
    return token?.kind === "op" && ops.includes(token.value) ? token.value : undefined;
  }

  private peekWord(word: string): boolean {
    const token = this.tokens[this.position];
    return token?.kind === "path" && token.value === word;
  }

  private expectOp(op: string): void {
    if (!this.peekOp(op)) {
      const token = this.tokens[this.position];
      throw new ExpressionError(`expected "${op}"${token ? ` before ${describe(token)}` : " at the end"}`, this.here());
    }
    this.position++;
  }

  /** Every rule goes through here, so nesting (parentheses, unary chains) is bounded. */
  private nested<T>(rule: () => T): T {
    if (++this.depth > MAX_EXPRESSION_DEPTH) throw new ExpressionError(`expression nests deeper than ${MAX_EXPRESSION_DEPTH} levels`, this.here());
    try {
      return rule();
    } finally {
      this.depth--;
    }
  }

  private ternary(): Node {
    return this.nested(() => {
      const test = this.binary(0);
      if (!this.peekOp("?")) return test;
      this.position++;
      const then = this.ternary();
      this.expectOp(":");
      return { kind: "cond", test, then, else: this.ternary() };
    });
  }

  private static readonly levels = [["||"], ["&&"], ["==", "!="], ["<", "<=", ">", ">=", "in"], ["+", "-"], ["*", "/", "%"]];

  private binary(level: number): Node {
    if (level >= Parser.levels.length) return this.unary();
    let left = this.binary(level + 1);
    for (;;) {
      const ops = Parser.levels[level];
      const op = this.peekOp(...ops) ?? (ops.includes("in") && this.peekWord("in") ? "in" : undefined);
      if (!op) return left;
      this.position++;
      left = { kind: "binary", op, left, right: this.binary(level + 1) };
    }
  }

  private unary(): Node {
    return this.nested(() => {
      const op = this.peekOp("!", "-");
      if (!op) return this.primary();
      this.position++;
      return { kind: "unary", op, arg: this.unary() };
    });
  }

  private list(close: string): Node[] {
    const items: Node[] = [];
    while (!this.peekOp(close)) {
      items.push(this.ternary());
      if (!this.peekOp(",")) break;
      this.position++;
    }
    this.expectOp(close);
    return items;
  }

  private primary(): Node {
    const token = this.tokens[this.position++];
    if (!token) throw new ExpressionError("unexpected end of expression", this.length);
    if (token.kind === "num" || token.kind === "str") return { kind: "lit", value: token.value };
    if (token.kind === "path") {
      if (token.value in KEYWORDS) return { kind: "lit", value: KEYWORDS[token.value] };
      if (token.value === "in") throw new ExpressionError('unexpected "in"', token.at);
      if (this.peekOp("(")) {
        if (!Object.prototype.hasOwnProperty.call(FUNCTIONS, token.value)) throw new ExpressionError(`unknown function ${token.value}()`, token.at);
        this.position++;
        return { kind: "call", name: token.value, args: this.list(")") };
      }
      const segments = splitPath(token.value);
      if (!segments) throw new ExpressionError(`bad path ${JSON.stringify(token.value)}`, token.at);
      return { kind: "path", path: token.value, segments, bare: /^[A-Za-z_$][\w$]*$/.test(token.value) };
    }
    if (token.value === "(") {
      const inner = this.ternary();
      this.expectOp(")");
      return inner;
    }
    if (token.value === "[") return { kind: "array", items: this.list("]") };
    throw new ExpressionError(`unexpected ${describe(token)}`, token.at);
  }
}

function describe(token: Token): string {
  return token.kind === "op" ? `"${token.value}"` : JSON.stringify(token.value);
}

const num = (v: unknown): number => (typeof v === "number" ? v : typeof v === "string" && v.trim() !== "" ? Number(v) : typeof v === "boolean" ? Number(v) : NaN);
const str = (v: unknown): string => (v === undefined || v === null ? "" : typeof v === "string" ? v : typeof v === "object" ? JSON.stringify(v) : String(v));
const numbers = (v: unknown): number[] => (Array.isArray(v) ? v.map(num).filter((n) => !Number.isNaN(n)) : []);
const list = (v: unknown): unknown[] | null => (Array.isArray(v) ? v : null);

const FUNCTIONS: Record<string, (...args: unknown[]) => unknown> = {
  len: (v) => (typeof v === "string" || Array.isArray(v) ? v.length : v && typeof v === "object" ? Object.keys(v).length : 0),
  upper: (v) => str(v).toUpperCase(),
  lower: (v) => str(v).toLowerCase(),
  trim: (v) => str(v).trim(),
  str: (v) => str(v),
  num: (v) => num(v),
  int: (v) => Math.trunc(num(v)),
  json: (v) => JSON.stringify(v ?? null),
  round: (v, digits) => {
    const factor = 10 ** (digits === undefined ? 0 : num(digits));
    return Math.round(num(v) * factor) / factor;
  },
  abs: (v) => Math.abs(num(v)),
  min: (...vs) => Math.min(...vs.flat().map(num)),
  max: (...vs) => Math.max(...vs.flat().map(num)),
  sum: (v) => numbers(v).reduce((a, b) => a + b, 0),
  avg: (v) => (numbers(v).length === 0 ? null : numbers(v).reduce((a, b) => a + b, 0) / numbers(v).length),
  clamp: (v, lo, hi) => Math.min(num(hi), Math.max(num(lo), num(v))),
  first: (v) => list(v)?.[0] ?? null,
  last: (v) => list(v)?.at(-1) ?? null,
  slice: (v, start, end) => list(v)?.slice(num(start ?? 0) || 0, end === undefined ? undefined : num(end)) ?? null,
  unique: (v) => list(v)?.filter((x, i, all) => all.findIndex((y) => jsonEqual(x, y)) === i) ?? null,
  count: (v, needle) => list(v)?.filter((x) => jsonEqual(x, needle ?? null)).length ?? 0,
  concat: (...vs) => (vs.every(Array.isArray) ? (vs as unknown[][]).flat() : vs.map(str).join("")),
  join: (items, sep) => (Array.isArray(items) ? items.map(str).join(sep === undefined ? "," : str(sep)) : str(items)),
  split: (v, sep) => str(v).split(sep === undefined ? "," : str(sep)),
  keys: (v) => (v && typeof v === "object" && !Array.isArray(v) ? Object.keys(v) : []),
  values: (v) => (v && typeof v === "object" && !Array.isArray(v) ? Object.values(v) : []),
  contains: (haystack, needle) => (Array.isArray(haystack) ? haystack.some((x) => jsonEqual(x, needle)) : str(haystack).includes(str(needle))),
  starts_with: (v, prefix) => str(v).startsWith(str(prefix)),
  ends_with: (v, suffix) => str(v).endsWith(str(suffix)),
  coalesce: (...vs) => vs.find((v) => v !== undefined && v !== null) ?? null,
};

/**
 * How comparisons read their operands. "condition" is seed 002's reading of router and loop
 * conditions: a bare word that names nothing is text (`plan == enterprise`), and a number or
 * boolean equals its text (`"7" == 7`). "strict" is the engine's (transform).
 */
export type Dialect = "condition" | "strict";

function operand(node: Node, scope: EvaluationScope, dialect: Dialect): unknown {
  const value = evaluateNode(node, scope, dialect);
  return value === undefined && dialect === "condition" && node.kind === "path" && node.bare ? node.path : value;
}

function equal(a: unknown, b: unknown, dialect: Dialect): boolean {
  if (jsonEqual(a ?? null, b ?? null)) return true;
  if (dialect !== "condition") return false;
  const loose = (s: unknown, other: unknown) => typeof s === "string" && (typeof other === "number" || typeof other === "boolean") && s.trim() === String(other);
  return loose(a, b) || loose(b, a);
}

function order(a: unknown, b: unknown): number {
  if (typeof a === "string" && typeof b === "string") return a < b ? -1 : a > b ? 1 : 0;
  const x = num(a);
  const y = num(b);
  return Number.isNaN(x) || Number.isNaN(y) ? Number.NaN : x - y;
}

/** A number, or null when arithmetic had no numeric answer (the engine's NaN, ±Infinity, division by zero). */
const numeric = (n: number): number | null => (Number.isFinite(n) ? n + 0 : null);

function arithmetic(op: string, a: unknown, b: unknown): unknown {
  switch (op) {
    case "+":
      if (Array.isArray(a) && Array.isArray(b)) return [...a, ...b];
      if (typeof a === "string" || typeof b === "string" || (a !== null && typeof a === "object") || (b !== null && typeof b === "object")) return str(a) + str(b);
      return numeric(num(a) + num(b));
    case "-":
      return numeric(num(a) - num(b));
    case "*":
      return numeric(num(a) * num(b));
    case "/":
      return numeric(num(a) / num(b));
    default:
      return numeric(num(a) % num(b));
  }
}

export function evaluateNode(node: Node, scope: EvaluationScope, dialect: Dialect = "strict"): unknown {
  switch (node.kind) {
    case "lit":
      return node.value;
    case "path":
      return resolveSegments(scope, node.segments);
    case "array":
      return node.items.map((item) => evaluateNode(item, scope, dialect) ?? null);
    case "call": {
      const value = FUNCTIONS[node.name](...node.args.map((a) => evaluateNode(a, scope, dialect)));
      return typeof value === "number" ? numeric(value) : value;
    }
    case "cond":
      return truthy(evaluateNode(node.test, scope, dialect)) ? evaluateNode(node.then, scope, dialect) : evaluateNode(node.else, scope, dialect);
    case "unary": {
      const value = evaluateNode(node.arg, scope, dialect);
      return node.op === "!" ? !truthy(value) : numeric(-num(value));
    }
    case "binary": {
      if (node.op === "&&") return truthy(evaluateNode(node.left, scope, dialect)) && truthy(evaluateNode(node.right, scope, dialect));
      if (node.op === "||") return truthy(evaluateNode(node.left, scope, dialect)) || truthy(evaluateNode(node.right, scope, dialect));
      const a = operand(node.left, scope, dialect);
      const b = operand(node.right, scope, dialect);
      switch (node.op) {
        case "==":
          return equal(a, b, dialect);
        case "!=":
          return !equal(a, b, dialect);
        case "in":
          return Array.isArray(b) ? b.some((x) => equal(a, x, dialect)) : typeof b === "string" && typeof a === "string" ? b.includes(a) : false;
        case "<":
          return order(a, b) < 0;
        case "<=":
          return order(a, b) <= 0;
        case ">":
          return order(a, b) > 0;
        case ">=":
          return order(a, b) >= 0;
        default:
          return arithmetic(node.op, a, b);
      }
    }
  }
}

export function parseExpression(text: string): Node {
  if (typeof text !== "string" || text.trim() === "") throw new ExpressionError("empty expression", 0);
  if (text.length > MAX_EXPRESSION_LENGTH) throw new ExpressionError(`expression is longer than ${MAX_EXPRESSION_LENGTH} characters`, MAX_EXPRESSION_LENGTH);
  return new Parser(tokenize(text), text.length).parse();
}

/** JSON-safe result: NaN and ±Infinity become null, undefined becomes null. */
export function jsonResult(value: unknown): unknown {
  if (typeof value === "number" && !Number.isFinite(value)) return null;
  return value === undefined ? null : value;
}

/** Evaluates an expression (transform): NaN and ±Infinity become null so results stay JSON. */
export function evaluateExpression(text: string, scope: EvaluationScope): unknown {
  return jsonResult(evaluateNode(parseExpression(text), scope));
}
