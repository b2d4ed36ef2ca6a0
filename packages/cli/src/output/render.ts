import type { JsonObject, JsonValue } from "@bufbuild/protobuf";
import YAML from "yaml";
import { UsageError } from "../cli-error";
import { renderJsonPath } from "./jsonpath-template";
import { renderTable } from "./table";

export const OUTPUT_FORMATS = ["table", "wide", "json", "yaml", "name"] as const;
/** `-o`: a table (wide: every scalar field too), JSON, YAML, `kind/id` names, or a kubectl-style jsonpath template. */
export type OutputFormat = (typeof OUTPUT_FORMATS)[number] | `jsonpath=${string}`;

export function outputFormat(value: string | undefined, command: string): OutputFormat {
  const format = value ?? "table";
  if (format.startsWith("jsonpath=") && format.length > "jsonpath=".length) return format as OutputFormat;
  if (!(OUTPUT_FORMATS as readonly string[]).includes(format)) {
    throw new UsageError(`-o must be table, wide, json, yaml, name or jsonpath=TEMPLATE, not "${format}"`, command);
  }
  return format as OutputFormat;
}

/** Where a command writes: the text, and the terminal width when stdout is one. */
export interface Output {
  write(text: string): void;
  /** Columns of the terminal (tables fit it); undefined when piped. */
  width?: number;
}

/** How `-o name` names an item: `<kind>/<value of idField>` (kubectl's `cloud-service/cs-…`). */
export interface Naming {
  kind: string;
  idField: string;
}

/** Many items: a table of `columns`, or a JSON array / YAML sequence of the whole items. */
export function renderList(items: JsonObject[], format: OutputFormat, columns: string[], out: Output, naming?: Naming): void {
  if (format === "json") return out.write(`${JSON.stringify(items, null, 2)}\n`);
  if (format === "yaml") return out.write(items.length === 0 ? "[]\n" : YAML.stringify(items));
  if (format === "name") return out.write(items.map((item) => `${nameOf(item, naming, columns)}\n`).join(""));
  if (format.startsWith("jsonpath=")) return out.write(renderJsonPath(format.slice("jsonpath=".length), { items }));
  if (items.length === 0) return out.write("No resources found.\n");
  if (format === "wide") return out.write(renderTable(items, wideColumns(items, columns)));
  out.write(renderTable(items, columns, out.width));
}

/** One item: as JSON or YAML; as a table, the same columns as `list` shows. */
export function renderOne(item: JsonValue, format: OutputFormat, columns: string[], out: Output, naming?: Naming): void {
  if (format === "json") return out.write(`${JSON.stringify(item, null, 2)}\n`);
  if (format === "yaml") return out.write(YAML.stringify(item));
  if (format === "name") return out.write(`${nameOf(item as JsonObject, naming, columns)}\n`);
  if (format.startsWith("jsonpath=")) return out.write(renderJsonPath(format.slice("jsonpath=".length), item));
  if (format === "wide") return out.write(renderTable([item as JsonObject], wideColumns([item as JsonObject], columns)));
  out.write(renderTable([item as JsonObject], columns, out.width));
}

function nameOf(item: JsonObject, naming: Naming | undefined, columns: string[]): string {
  const idField = naming?.idField ?? columns[0] ?? "id";
  const id = item[idField];
  const text = typeof id === "string" || typeof id === "number" ? String(id) : "";
  return naming ? `${naming.kind}/${text}` : text;
}

/** The default columns, then every other top-level field that holds a scalar or a list of scalars. */
function wideColumns(items: JsonObject[], columns: string[]): string[] {
  const extra: string[] = [];
  for (const item of items) {
    for (const [key, value] of Object.entries(item)) {
      if (columns.includes(key) || extra.includes(key)) continue;
      const scalar = (v: JsonValue) => v === null || typeof v !== "object";
      if (scalar(value) || (Array.isArray(value) && value.every(scalar))) extra.push(key);
    }
  }
  return [...columns, ...extra];
}

/**
 * One row of `list --watch`, printed as it arrives: a table line (the header before the first),
 * one JSON object per line, a YAML document, a name, or the jsonpath template applied to the item.
 */
export function renderWatchEvent(item: JsonObject, format: OutputFormat, columns: string[], out: Output, naming: Naming | undefined, first: boolean): void {
  if (format === "json") return out.write(`${JSON.stringify(item)}\n`);
  if (format === "yaml") return out.write(`---\n${YAML.stringify(item)}`);
  if (format === "name") return out.write(`${nameOf(item, naming, columns)}\n`);
  if (format.startsWith("jsonpath=")) return out.write(renderJsonPath(format.slice("jsonpath=".length), item));
  const table = renderTable([item], format === "wide" ? wideColumns([item], columns) : columns).split("\n");
  out.write(`${first ? `${table[0]}\n` : ""}${table[1]}\n`);
}
