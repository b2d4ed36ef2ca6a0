import { resolvePath, splitPath, type EvaluationScope } from "./paths";

const TEMPLATE = /\{\{\s*([\s\S]*?)\s*\}\}/g;
const WHOLE = /^\{\{\s*([\s\S]*?)\s*\}\}$/;

/** The value of one `{{ … }}`: `path` or `path | fallback` (fallback used when path is missing or null). */
function evaluateTemplate(expression: string, scope: EvaluationScope): unknown {
  const bar = findFallbackBar(expression);
  const path = (bar === -1 ? expression : expression.slice(0, bar)).trim();
  const value = resolvePath(scope, path);
  if ((value === undefined || value === null) && bar !== -1) return fallbackValue(expression.slice(bar + 1).trim(), scope);
  return value;
}

/** Index of the `|` that starts the fallback (outside quotes), or -1. */
function findFallbackBar(expression: string): number {
  let quote: string | undefined;
  for (let i = 0; i < expression.length; i++) {
    const ch = expression[i];
    if (quote) {
      if (ch === quote) quote = undefined;
    } else if (ch === '"' || ch === "'") quote = ch;
    else if (ch === "|") return i;
  }
  return -1;
}

/** Fallbacks starting with these read a path (the seed's roots and the engine's); any other bare word is text. */
const FALLBACK_ROOTS = new Set(["context", "outputs", "instance", "state", "steps", "data", "config", "input", "runtime", "instance_id"]);

/** A fallback is a quoted string, a JSON scalar, another path (itself allowing `| …`), or bare text. */
function fallbackValue(text: string, scope: EvaluationScope): unknown {
  const quoted = /^(["'])([\s\S]*)\1$/.exec(text);
  if (quoted) return quoted[2];
  if (text === "true") return true;
  if (text === "false") return false;
  if (text === "null") return null;
  if (/^-?\d+(\.\d+)?$/.test(text)) return Number(text);
  if (findFallbackBar(text) !== -1) return evaluateTemplate(text, scope);
  const segments = splitPath(text);
  if (segments && FALLBACK_ROOTS.has(segments[0])) return resolvePath(scope, text);
  return text;
}

function asText(value: unknown): string {
  if (value === undefined || value === null) return "";
  return typeof value === "string" ? value : typeof value === "object" ? JSON.stringify(value) : String(value);
}

/**
 * Resolves `{{ context.data.x }}`, `{{ outputs.step.field }}`, `{{ x | fallback }}` in every string
 * of a params value, recursively. A string that is exactly one template takes the value's own type
 * (an object stays an object; missing becomes null); templates inside longer text are stringified.
 */
export function resolveTemplates<T>(value: T, scope: EvaluationScope): T {
  return resolveValue(value, scope) as T;
}

function resolveValue(value: unknown, scope: EvaluationScope): unknown {
  if (typeof value === "string") {
    if (!value.includes("{{")) return value;
    const whole = WHOLE.exec(value);
    if (whole && !whole[1].includes("}}") && !whole[1].includes("{{")) return evaluateTemplate(whole[1], scope) ?? null;
    return value.replace(TEMPLATE, (_, expression: string) => asText(evaluateTemplate(expression, scope)));
  }
  if (Array.isArray(value)) return value.map((v) => resolveValue(v, scope));
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [key, v] of Object.entries(value)) out[key] = resolveValue(v, scope);
    return out;
  }
  return value;
}

/** Whether a params value reads step outputs (so the engine loads them before resolving). */
export function referencesOutputs(value: unknown): boolean {
  return JSON.stringify(value ?? null).includes("outputs");
}
