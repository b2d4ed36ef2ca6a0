import type { JsonObject, JsonValue } from "@bufbuild/protobuf";
import YAML from "yaml";
import { UsageError } from "../cli-error";
import { renderTable } from "./table";

export const OUTPUT_FORMATS = ["table", "json", "yaml"] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

export function outputFormat(value: string | undefined, command: string): OutputFormat {
  const format = value ?? "table";
  if (!(OUTPUT_FORMATS as readonly string[]).includes(format)) throw new UsageError(`-o must be table, json or yaml, not "${format}"`, command);
  return format as OutputFormat;
}

/** Where a command writes: the text, and the terminal width when stdout is one. */
export interface Output {
  write(text: string): void;
  /** Columns of the terminal (tables fit it); undefined when piped. */
  width?: number;
}

/** Many items: a table of `columns`, or a JSON array / YAML sequence of the whole items. */
export function renderList(items: JsonObject[], format: OutputFormat, columns: string[], out: Output): void {
  if (format === "json") return out.write(`${JSON.stringify(items, null, 2)}\n`);
  if (format === "yaml") return out.write(items.length === 0 ? "[]\n" : YAML.stringify(items));
  if (items.length === 0) return out.write("No resources found.\n");
  out.write(renderTable(items, columns, out.width));
}

/** One item: as JSON or YAML; as a table, the same columns as `list` shows. */
export function renderOne(item: JsonValue, format: OutputFormat, columns: string[], out: Output): void {
  if (format === "json") return out.write(`${JSON.stringify(item, null, 2)}\n`);
  if (format === "yaml") return out.write(YAML.stringify(item));
  out.write(renderTable([item as JsonObject], columns, out.width));
}
