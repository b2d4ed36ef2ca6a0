import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ConditionSyntaxError, evaluateCondition, parseCondition } from "./conditions";
import { ExpressionError, evaluateExpression, parseExpression } from "./expression";
import type { EvaluationScope } from "./paths";

const scope: EvaluationScope = {
  context: { data: { count: 3, name: "x", items: [1, 2, { a: null }], flag: true, nested: { deep: { v: "1" } } }, config: {} },
  outputs: { s: { n: 1 } },
  instance: { id: "i" },
  state: {},
};

/** Runs `work`; only a typed syntax error may come out, and it must name a position inside the text. */
function onlyTypedErrors(text: string, work: () => unknown): void {
  try {
    work();
  } catch (err) {
    expect(err).toBeInstanceOf(ExpressionError);
    const position = (err as ExpressionError).position;
    expect(Number.isInteger(position) && position >= 0 && position <= Math.max(text.length, 4096)).toBe(true);
  }
}

const leaf = fc.oneof(
  fc.integer({ min: -1000, max: 1000 }).map(String),
  fc.double({ min: 0, max: 1e6, noNaN: true }).map((n) => String(Math.abs(n))),
  fc.constantFrom("true", "false", "null", "count", "name", "items[0]", "items[2].a", "nested.deep.v", "context.data.count", "outputs.s.n", "steps.s.n", "missing", 'context.data["name"]'),
  fc.string({ maxLength: 8 }).map((s) => JSON.stringify(s)),
);

/** Random syntax trees of the grammar, printed (sometimes with a mistake spliced in). */
const expression: fc.Arbitrary<string> = fc.letrec<{ node: string }>((tie) => ({
  node: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    leaf,
    fc.tuple(tie("node"), fc.constantFrom("+", "-", "*", "/", "%", "==", "!=", "<", "<=", ">", ">=", "&&", "||", "in"), tie("node")).map(([a, op, b]) => `${a} ${op} ${b}`),
    tie("node").map((a) => `!${a}`),
    tie("node").map((a) => `-${a}`),
    tie("node").map((a) => `(${a})`),
    fc.tuple(tie("node"), tie("node"), tie("node")).map(([a, b, c]) => `${a} ? ${b} : ${c}`),
    fc.array(tie("node"), { maxLength: 3 }).map((items) => `[${items.join(", ")}]`),
    fc.tuple(fc.constantFrom("len", "abs", "sum", "first", "contains", "upper", "coalesce", "nosuch"), fc.array(tie("node"), { maxLength: 2 })).map(([f, args]) => `${f}(${args.join(", ")})`),
  ),
})).node;

describe("expression parser fuzzing", () => {
  it("random strings only ever raise a typed error with a position, and end quickly", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (text) => {
        const started = performance.now();
        onlyTypedErrors(text, () => evaluateExpression(text, scope));
        onlyTypedErrors(text, () => evaluateCondition(text, scope));
        expect(performance.now() - started).toBeLessThan(1_000);
      }),
      { numRuns: 2_000 },
    );
  });

  it("random operator soup built from the grammar's own tokens only raises typed errors", () => {
    const token = fc.constantFrom("(", ")", "[", "]", ",", "?", ":", "!", "-", "+", "*", "&&", "||", "==", "in", "count", "1", "'s'", " ", "\"", ".", "x[", "]]");
    fc.assert(
      fc.property(fc.array(token, { maxLength: 80 }), (tokens) => {
        const text = tokens.join("");
        onlyTypedErrors(text, () => evaluateCondition(text, scope));
      }),
      { numRuns: 2_000 },
    );
  });

  it("random syntax trees parse (or fail typed), and evaluate without throwing", () => {
    fc.assert(
      fc.property(expression, (text) => {
        let parsed = false;
        onlyTypedErrors(text, () => {
          parseExpression(text);
          parsed = true;
        });
        if (parsed) {
          const result = evaluateExpression(text, scope);
          expect(JSON.parse(JSON.stringify(result ?? null))).toEqual(result ?? null);
          expect(typeof evaluateCondition(text, scope)).toBe("boolean");
        }
      }),
      { numRuns: 1_500 },
    );
  });

  it("deep nesting is refused, not a stack overflow", () => {
    fc.assert(
      fc.property(fc.integer({ min: 65, max: 5_000 }), fc.constantFrom("(", "!", "-", "[", "len("), (depth, opener) => {
        const text = opener.repeat(depth) + "1";
        expect(() => parseExpression(text)).toThrow(/deeper than 64|longer than 4096/);
        // A run of dashes is a (seed) path to the condition parser; every other opener is refused.
        if (opener !== "-") expect(() => parseCondition(text)).toThrow(ConditionSyntaxError);
      }),
      { numRuns: 50 },
    );
  });
});
