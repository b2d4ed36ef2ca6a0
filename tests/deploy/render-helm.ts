import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { parse, parseAllDocuments } from "yaml";
import type { Manifest } from "./render-kustomization";

export interface Release {
  name: string;
  namespace: string;
}

/**
 * Renders deploy/helm/<chart> the way `helm template` does for the subset of Go templates the chart
 * is written in — plain YAML with `{{ .Values.a.b }}`, `{{ .Release.Name|Namespace|Service }}` and
 * `{{ .Chart.Name|Version|AppVersion }}` substitutions, optionally piped through `quote` — and refuses
 * anything else (`{{-`, range, if, include, other functions), a missing value, or a map or list where a
 * scalar belongs, so the chart cannot drift into templates this renderer would get wrong. helm itself
 * is not needed (nor available to the tests).
 */
export function renderHelmChart(chartDir: string, overrides: Record<string, unknown> = {}, release: Release = { name: "cloudforet", namespace: "default" }): Manifest[] {
  const chart = parse(readFileSync(path.join(chartDir, "Chart.yaml"), "utf8")) as Record<string, string>;
  const values = deepMerge(parse(readFileSync(path.join(chartDir, "values.yaml"), "utf8")) as Record<string, unknown>, overrides);
  const scope: Record<string, unknown> = {
    Values: values,
    Release: { Name: release.name, Namespace: release.namespace, Service: "Helm" },
    Chart: { Name: chart.name, Version: chart.version, AppVersion: chart.appVersion },
  };
  const templatesDir = path.join(chartDir, "templates");
  return readdirSync(templatesDir)
    .filter((file) => file.endsWith(".yaml") && !file.startsWith("_"))
    .sort()
    .flatMap((file) => {
      const rendered = renderTemplate(readFileSync(path.join(templatesDir, file), "utf8"), scope, file);
      return parseAllDocuments(rendered)
        .map((doc) => {
          if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors[0].message}`);
          return doc.toJS() as Manifest | null;
        })
        .filter((doc): doc is Manifest => doc !== null);
    });
}

const action = /\{\{(.*?)\}\}/g;
const expression = /^ (\.[A-Za-z][A-Za-z0-9]*(?:\.[A-Za-z][A-Za-z0-9]*)*)((?: \| [a-z]+)*) $/;

export function renderTemplate(template: string, scope: Record<string, unknown>, file = "template"): string {
  return template.replace(action, (whole, inner: string) => {
    const match = expression.exec(inner);
    if (!match) throw new Error(`${file}: ${whole} is outside the template subset this renderer implements`);
    const [, reference, pipes] = match;
    let value: unknown = reference
      .slice(1)
      .split(".")
      .reduce<unknown>((at, key) => (at !== null && typeof at === "object" ? (at as Record<string, unknown>)[key] : undefined), scope);
    if (value === undefined || value === null) throw new Error(`${file}: ${reference} has no value`);
    if (typeof value === "object") throw new Error(`${file}: ${reference} is not a scalar`);
    for (const fn of pipes.split(" | ").slice(1)) {
      if (fn !== "quote") throw new Error(`${file}: function ${fn} is outside the template subset`);
      value = JSON.stringify(String(value));
    }
    return String(value);
  });
}

function deepMerge(base: Record<string, unknown>, overrides: Record<string, unknown>): Record<string, unknown> {
  const merged = { ...base };
  for (const [key, value] of Object.entries(overrides)) {
    const current = merged[key];
    merged[key] =
      value && typeof value === "object" && !Array.isArray(value) && current && typeof current === "object" && !Array.isArray(current)
        ? deepMerge(current as Record<string, unknown>, value as Record<string, unknown>)
        : value;
  }
  return merged;
}
