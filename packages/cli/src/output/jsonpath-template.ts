import type { JsonValue } from "@bufbuild/protobuf";
import { JSONPath } from "jsonpath-plus";
import { UsageError } from "../cli-error";

/**
 * kubectl's `-o jsonpath=` templates: text with `{…}` expressions such as `{.items[*].name}`
 * or `{.items[0].data.cluster}`; each expression's matches print space-separated, `\n` and `\t`
 * in the text are a newline and a tab. A list is `{ items: [...] }`, as kubectl shows it.
 * The expressions are evaluated by jsonpath-plus (a leading `.` stands for `$.`).
 */
export function renderJsonPath(template: string, value: JsonValue): string {
  let out = "";
  let rest = template;
  while (rest.length > 0) {
    const open = rest.indexOf("{");
    if (open < 0) {
      out += unescape(rest);
      break;
    }
    out += unescape(rest.slice(0, open));
    const close = rest.indexOf("}", open);
    if (close < 0) throw new UsageError(`unclosed "{" in the jsonpath template "${template}"`);
    out += evaluate(rest.slice(open + 1, close).trim(), value, template);
    rest = rest.slice(close + 1);
  }
  return out.endsWith("\n") ? out : `${out}\n`;
}

function evaluate(expression: string, value: JsonValue, template: string): string {
  if (expression.startsWith('"') && expression.endsWith('"')) return unescape(expression.slice(1, -1));
  const path = expression === "" || expression === "." ? "$" : expression.startsWith("$") ? expression : `$${expression.startsWith(".") || expression.startsWith("[") ? "" : "."}${expression}`;
  let results: unknown[];
  try {
    results = JSONPath({ path, json: value as object, wrap: true, eval: false }) as unknown[];
  } catch (err) {
    throw new UsageError(`bad jsonpath expression {${expression}} in "${template}": ${(err as Error).message}`);
  }
  return results.map((r) => (typeof r === "string" ? r : JSON.stringify(r))).join(" ");
}

function unescape(text: string): string {
  return text.replace(/\\n/g, "\n").replace(/\\t/g, "\t");
}
