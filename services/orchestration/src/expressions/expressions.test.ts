import { describe, expect, it } from "vitest";
import { ConditionSyntaxError, evaluateCondition, parseCondition } from "./conditions";
import { ExpressionError, evaluateExpression } from "./expression";
import type { EvaluationScope } from "./paths";
import { resolveTemplates } from "./templates";

const scope: EvaluationScope = {
  context: { data: { name: "John", plan: "enterprise", opened: true, count: 3, zero: 0, items: [{ id: "a" }, { id: "b" }], user: { plan: "pro" }, empty: [], n: "7" }, config: { sender: "noreply@orch8.io" } },
  outputs: { send_welcome: { email_id: "msg-abc123", status: "sent" }, check: { body: { pending: false } } },
  instance: { id: "i-1", tenant_id: "acme" },
  state: { color: "blue" },
};

describe("templates", () => {
  it("resolves context, outputs, instance and state paths in every string of the params", () => {
    expect(
      resolveTemplates(
        {
          to: "{{ context.data.name }}",
          subject: "Hi {{context.data.name}}, your mail {{ outputs.send_welcome.email_id }} was {{ outputs.send_welcome.status }}",
          list: ["{{ context.config.sender }}", 5],
          nested: { tenant: "{{ instance.tenant_id }}", color: "{{ state.color }}" },
        },
        scope,
      ),
    ).toEqual({
      to: "John",
      subject: "Hi John, your mail msg-abc123 was sent",
      list: ["noreply@orch8.io", 5],
      nested: { tenant: "acme", color: "blue" },
    });
  });

  it("keeps the value's type when the whole string is one template", () => {
    expect(resolveTemplates({ items: "{{ context.data.items }}", n: "{{ context.data.count }}", out: "{{ outputs.send_welcome }}" }, scope)).toEqual({
      items: [{ id: "a" }, { id: "b" }],
      n: 3,
      out: { email_id: "msg-abc123", status: "sent" },
    });
  });

  it("uses the fallback when the path is missing or null", () => {
    expect(
      resolveTemplates(
        {
          a: "{{ context.data.nickname | friend }}",
          b: "{{ context.data.nickname | 'dear friend' }}",
          c: "{{ context.data.missing | 42 }}",
          d: "{{ context.data.missing | context.data.name }}",
          e: "Hello {{ context.data.nickname | \"you\" }}!",
          f: "{{ context.data.name | ignored }}",
          g: "{{ context.data.zero | 9 }}",
        },
        scope,
      ),
    ).toEqual({ a: "friend", b: "dear friend", c: 42, d: "John", e: "Hello you!", f: "John", g: 0 });
  });

  it("reads bare paths from context.data, and missing values become null or empty text", () => {
    expect(resolveTemplates({ a: "{{ name }}", b: "{{ user.plan }}", c: "{{ items[1].id }}", d: "{{ nope }}", e: "x{{ nope }}y" }, scope)).toEqual({
      a: "John",
      b: "pro",
      c: "b",
      d: null,
      e: "xy",
    });
  });
});

describe("conditions", () => {
  it.each([
    ["plan == enterprise", true],
    ["plan == pro", false],
    ["plan != pro", true],
    ["opened == true", true],
    ["opened", true],
    ["!opened", false],
    ["zero", false],
    ["empty", false],
    ["missing", false],
    ["user.plan == pro", true],
    ["user.plan == 'pro'", true],
    ['plan == "enterprise"', true],
    ["count == 3", true],
    ["count > 2", true],
    ["count >= 4", false],
    ["n == 7", true],
    ["n < 10", true],
    ["items[0].id == a", true],
    ["outputs.check.body.pending == false", true],
    ["context.config.sender == noreply@orch8.io", true],
    ["opened && plan == enterprise", true],
    ["zero || plan == pro", false],
    ["zero || count == 3 && opened", true],
  ])("%s → %s", (condition, expected) => expect(evaluateCondition(condition, scope)).toBe(expected));

  it.each(["", "a ==", "== b", "a b", "plan === x"])("rejects %j", (text) => expect(() => parseCondition(text)).toThrow(ConditionSyntaxError));
});

describe("transform expressions", () => {
  it.each([
    ["count + 1", 4],
    ["count * 2 - 1", 5],
    ["(count + 1) * 2", 8],
    ["name + ' Smith'", "John Smith"],
    ["upper(name)", "JOHN"],
    ["len(items)", 2],
    ["items[1].id", "b"],
    ["count > 2 && opened", true],
    ["plan == 'enterprise' ? 'vip' : 'regular'", "vip"],
    ["outputs.send_welcome.status", "sent"],
    ["state.color", "blue"],
    ["coalesce(missing, 'x')", "x"],
    ["[1, 2] + [3]", [1, 2, 3]],
    ["contains(items, context.data.items[0])", true],
    ["round(10 / 3, 2)", 3.33],
    ["-count", -3],
    ["!opened", false],
    ["1 / 0", null],
  ])("%s → %j", (expression, expected) => expect(evaluateExpression(expression, scope)).toEqual(expected));

  it.each(["", "1 +", "foo(", "nosuchfn(1)", "'open", "a ? b", "1 $ 2"])("rejects %j", (text) => expect(() => evaluateExpression(text, scope)).toThrow(ExpressionError));
});

describe("the engine's condition grammar", () => {
  const engine: EvaluationScope = {
    context: { data: { count: 5, threshold: 8, a: 4, b: 6, user: { name: "Alice", tags: ["vip"] }, "odd key": 1, items: [10, 20, 30], active: true, s: "7" }, config: { limit: 100 } },
    outputs: { step_1: { count: 42, result: "ok" } },
    instance: { id: "i-1" },
  };

  it.each([
    ["count * 2 > threshold", true],
    ["count * 2 > threshold * 2", false],
    ["context.data.a + context.data.b == 10", true],
    ["true", true],
    ["false", false],
    ["null", false],
    ["!false", true],
    ["(count + 1) * 2 == 12", true],
    ["count % 2 == 1", true],
    ["count - 1 >= 4 && count / 5 == 1", true],
    ["count > 10 || (active && !false)", true],
    ["user.name == 'Alice'", true],
    ['user.name == "Bob"', false],
    ["'vip' in user.tags", true],
    ["count in [1, 5, 9]", true],
    ["count in [1, 2]", false],
    ["steps.step_1.count == 42", true],
    ["outputs.step_1.result == ok", true],
    ["config.limit == 100", true],
    ["data.count == 5", true],
    ['context.data["odd key"] == 1', true],
    ["items[1] == 20", true],
    ["items.2 == 30", true],
    ["len(items) == 3 && sum(items) == 60", true],
    ["-count < 0", true],
    ["count > 3 ? active : false", true],
    ["s == 7", true],
    ["s < 10", true],
    ["missing == null", false],
  ])("%s → %s", (condition, expected) => expect(evaluateCondition(condition, engine)).toBe(expected));

  it("a loop condition of `true` is true (it used to be read as a path)", () => {
    expect(evaluateCondition("true", { context: {}, outputs: {} })).toBe(true);
  });

  it.each([
    ["count * (2 > threshold", 22],
    ["count >", 7],
    ["a ? b", 5],
    ["1 + + ", 4],
    ["1 +", 3],
    ["count $ 2", 6],
    ["nosuch(1)", 0],
  ])("rejects %j with a position", (text, position) => {
    try {
      parseCondition(text);
      throw new Error("expected a syntax error");
    } catch (err) {
      expect(err).toBeInstanceOf(ConditionSyntaxError);
      expect((err as ConditionSyntaxError).position).toBe(position);
    }
  });

  it("limits depth and length", () => {
    expect(() => parseCondition("(".repeat(100) + "1" + ")".repeat(100))).toThrow(/deeper than 64/);
    expect(() => parseCondition("!".repeat(100) + "1")).toThrow(/deeper than 64/);
    expect(() => parseCondition("1 + ".repeat(2000) + "1")).toThrow(/longer than 4096/);
    expect(evaluateCondition("(".repeat(20) + "1" + ")".repeat(20), engine)).toBe(true);
  });

  it("transform keeps the engine's results", () => {
    expect(evaluateExpression("count * 2 + 1", engine)).toBe(11);
    expect(evaluateExpression("'x' in ['x']", engine)).toBe(true);
    expect(evaluateExpression("json(user.tags)", engine)).toBe('["vip"]');
    expect(evaluateExpression("first(items) + last(items)", engine)).toBe(40);
    expect(() => evaluateExpression("count ==", engine)).toThrow(ExpressionError);
  });
});

describe("engine template rules", () => {
  it("reads fallback chains, bracket paths and the engine's roots", () => {
    const s: EvaluationScope = { context: { data: { b: "from_b", "my key": "v", items: ["a", "b"] }, config: { api_key: "k" } }, outputs: { step_1: { n: 42 } }, instance: { id: "i-9" } };
    expect(
      resolveTemplates(
        {
          chain: "{{ context.data.a | context.data.b | literal_c }}",
          chainLiteral: "{{ context.data.a | context.data.x | literal_c }}",
          bracket: '{{ context.data["my key"] }}',
          index: "{{ items[1] }}",
          steps: "{{ steps.step_1.n }}",
          config: "{{ config.api_key }}",
          id: "{{ instance_id }}",
          inline: "Hi {{ missing }}!",
          inlineChain: "Hi {{ missing | context.data.b }}!",
        },
        s,
      ),
    ).toEqual({ chain: "from_b", chainLiteral: "literal_c", bracket: "v", index: "b", steps: 42, config: "k", id: "i-9", inline: "Hi !", inlineChain: "Hi from_b!" });
  });
});
