import { jsonEqual, resolvePath, truthy, type EvaluationScope } from "./paths";

/**
 * The `transform` handler's expression language: JSON literals, paths (as in templates: bare paths
 * read context.data), `+ - * / %`, comparisons, `&& || !`, `a ? b : c`, parentheses, array
 * literals and a few functions (len, upper, lower, trim, str, num, int, round, abs, min, max,
 * concat, join, split, keys, contains, coalesce). No assignment, no access to anything else.
 */
export class ExpressionError extends Error {
  override name = "ExpressionError";
}

type Token = { kind: "num"; value: number } | { kind: "str"; value: string } | { kind: "path"; value: string } | { kind: "op"; value: string };

type Node =
  | { kind: "lit"; value: unknown }
  | { kind: "path"; path: string }
  | { kind: "unary"; op: string; arg: Node }
  | { kind: "binary"; op: string; left: Node; right: Node }
  | { kind: "cond"; test: Node; then: Node; else: Node }
  | { kind: "call"; name: string; args: Node[] }
  | { kind: "array"; items: Node[] };

const OPERATORS = ["&&", "||", "==", "!=", "<=", ">=", "<", ">", "+", "-", "*", "/", "%", "!", "(", ")", "[", "]", ",", "?", ":"];

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const ch = text[i];
    if (/\s/.test(ch)) {
      i++;
      continue;
    }
    const number = /^\d+(\.\d+)?([eE][-+]?\d+)?/.exec(text.slice(i));
    if (number) {
      tokens.push({ kind: "num", value: Number(number[0]) });
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
      if (j >= text.length) throw new ExpressionError("unterminated string");
      tokens.push({ kind: "str", value });
      i = j + 1;
      continue;
    }
    const path = /^[A-Za-z_$][\w$]*(?:\.[\w$:-]+|\[\d+\])*/.exec(text.slice(i));
    if (path) {
      tokens.push({ kind: "path", value: path[0] });
      i += path[0].length;
      continue;
    }
    const op = OPERATORS.find((o) => text.startsWith(o, i));
    if (!op) throw new ExpressionError(`unexpected character ${JSON.stringify(ch)} at ${i}`);
    tokens.push({ kind: "op", value: op });
    i += op.length;
  }
  return tokens;
}

class Parser {
  private position = 0;
  constructor(private readonly tokens: Token[]) {}

  parse(): Node {
    const node = this.ternary();
    if (this.position < this.tokens.length) throw new ExpressionError(`unexpected ${describe(this.tokens[this.position])}`);
    return node;
  }

  private peekOp(...ops: string[]): string | undefined {
    const token = this.tokens[this.position];
    return token?.kind === "op" && ops.includes(token.value) ? token.value : undefined;
  }

  private expectOp(op: string): void {
    if (!this.peekOp(op)) throw new ExpressionError(`expected "${op}"${this.tokens[this.position] ? ` before ${describe(this.tokens[this.position])}` : " at the end"}`);
    this.position++;
  }

  private ternary(): Node {
    const test = this.binary(0);
    if (!this.peekOp("?")) return test;
    this.position++;
    const then = this.ternary();
    this.expectOp(":");
    return { kind: "cond", test, then, else: this.ternary() };
  }

  private static readonly levels = [["||"], ["&&"], ["==", "!="], ["<", "<=", ">", ">="], ["+", "-"], ["*", "/", "%"]];

  private binary(level: number): Node {
    if (level >= Parser.levels.length) return this.unary();
    let left = this.binary(level + 1);
    for (let op = this.peekOp(...Parser.levels[level]); op; op = this.peekOp(...Parser.levels[level])) {
      this.position++;
      left = { kind: "binary", op, left, right: this.binary(level + 1) };
    }
    return left;
  }

  private unary(): Node {
    const op = this.peekOp("!", "-");
    if (op) {
      this.position++;
      return { kind: "unary", op, arg: this.unary() };
    }
    return this.primary();
  }

  private primary(): Node {
    const token = this.tokens[this.position++];
    if (!token) throw new ExpressionError("unexpected end of expression");
    if (token.kind === "num" || token.kind === "str") return { kind: "lit", value: token.value };
    if (token.kind === "path") {
      if (token.value === "true" || token.value === "false") return { kind: "lit", value: token.value === "true" };
      if (token.value === "null") return { kind: "lit", value: null };
      if (this.peekOp("(")) {
        this.position++;
        const args: Node[] = [];
        if (!this.peekOp(")")) {
          do args.push(this.ternary());
          while (this.peekOp(",") && ++this.position);
        }
        this.expectOp(")");
        if (!(token.value in FUNCTIONS)) throw new ExpressionError(`unknown function ${token.value}()`);
        return { kind: "call", name: token.value, args };
      }
      return { kind: "path", path: token.value };
    }
    if (token.value === "(") {
      const inner = this.ternary();
      this.expectOp(")");
      return inner;
    }
    if (token.value === "[") {
      const items: Node[] = [];
      if (!this.peekOp("]")) {
        do items.push(this.ternary());
        while (this.peekOp(",") && ++this.position);
      }
      this.expectOp("]");
      return { kind: "array", items };
    }
    throw new ExpressionError(`unexpected ${describe(token)}`);
  }
}

function describe(token: Token): string {
  return token.kind === "op" ? `"${token.value}"` : JSON.stringify(token.value);
}

const num = (v: unknown): number => (typeof v === "number" ? v : typeof v === "string" && v.trim() !== "" ? Number(v) : typeof v === "boolean" ? Number(v) : NaN);
const str = (v: unknown): string => (v === undefined || v === null ? "" : typeof v === "string" ? v : typeof v === "object" ? JSON.stringify(v) : String(v));

const FUNCTIONS: Record<string, (...args: unknown[]) => unknown> = {
  len: (v) => (typeof v === "string" || Array.isArray(v) ? v.length : v && typeof v === "object" ? Object.keys(v).length : 0),
  upper: (v) => str(v).toUpperCase(),
  lower: (v) => str(v).toLowerCase(),
  trim: (v) => str(v).trim(),
  str: (v) => str(v),
  num: (v) => num(v),
  int: (v) => Math.trunc(num(v)),
  round: (v, digits) => {
    const factor = 10 ** (digits === undefined ? 0 : num(digits));
    return Math.round(num(v) * factor) / factor;
  },
  abs: (v) => Math.abs(num(v)),
  min: (...vs) => Math.min(...vs.flat().map(num)),
  max: (...vs) => Math.max(...vs.flat().map(num)),
  concat: (...vs) => (vs.every(Array.isArray) ? (vs as unknown[][]).flat() : vs.map(str).join("")),
  join: (list, sep) => (Array.isArray(list) ? list.map(str).join(sep === undefined ? "," : str(sep)) : str(list)),
  split: (v, sep) => str(v).split(sep === undefined ? "," : str(sep)),
  keys: (v) => (v && typeof v === "object" && !Array.isArray(v) ? Object.keys(v) : []),
  contains: (haystack, needle) => (Array.isArray(haystack) ? haystack.some((x) => jsonEqual(x, needle)) : str(haystack).includes(str(needle))),
  coalesce: (...vs) => vs.find((v) => v !== undefined && v !== null) ?? null,
};

function evaluateNode(node: Node, scope: EvaluationScope): unknown {
  switch (node.kind) {
    case "lit":
      return node.value;
    case "path":
      return resolvePath(scope, node.path);
    case "array":
      return node.items.map((item) => evaluateNode(item, scope) ?? null);
    case "call":
      return FUNCTIONS[node.name](...node.args.map((a) => evaluateNode(a, scope)));
    case "cond":
      return truthy(evaluateNode(node.test, scope)) ? evaluateNode(node.then, scope) : evaluateNode(node.else, scope);
    case "unary": {
      const value = evaluateNode(node.arg, scope);
      return node.op === "!" ? !truthy(value) : -num(value);
    }
    case "binary": {
      if (node.op === "&&") {
        const left = evaluateNode(node.left, scope);
        return truthy(left) ? evaluateNode(node.right, scope) : left;
      }
      if (node.op === "||") {
        const left = evaluateNode(node.left, scope);
        return truthy(left) ? left : evaluateNode(node.right, scope);
      }
      const a = evaluateNode(node.left, scope);
      const b = evaluateNode(node.right, scope);
      switch (node.op) {
        case "==":
          return jsonEqual(a ?? null, b ?? null);
        case "!=":
          return !jsonEqual(a ?? null, b ?? null);
        case "<":
          return typeof a === "string" && typeof b === "string" ? a < b : num(a) < num(b);
        case "<=":
          return typeof a === "string" && typeof b === "string" ? a <= b : num(a) <= num(b);
        case ">":
          return typeof a === "string" && typeof b === "string" ? a > b : num(a) > num(b);
        case ">=":
          return typeof a === "string" && typeof b === "string" ? a >= b : num(a) >= num(b);
        case "+":
          if (Array.isArray(a) && Array.isArray(b)) return [...a, ...b];
          if (typeof a === "string" || typeof b === "string" || (a !== null && typeof a === "object") || (b !== null && typeof b === "object")) return str(a) + str(b);
          return num(a) + num(b);
        case "-":
          return num(a) - num(b);
        case "*":
          return num(a) * num(b);
        case "/":
          return num(a) / num(b);
        case "%":
          return num(a) % num(b);
      }
    }
  }
  throw new ExpressionError("unsupported expression");
}

export function parseExpression(text: string): Node {
  if (typeof text !== "string" || text.trim() === "") throw new ExpressionError("empty expression");
  return new Parser(tokenize(text)).parse();
}

/** Evaluates an expression; NaN and ±Infinity become null so results stay JSON. */
export function evaluateExpression(text: string, scope: EvaluationScope): unknown {
  const value = evaluateNode(parseExpression(text), scope);
  if (typeof value === "number" && !Number.isFinite(value)) return null;
  return value === undefined ? null : value;
}
