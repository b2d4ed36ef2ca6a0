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
