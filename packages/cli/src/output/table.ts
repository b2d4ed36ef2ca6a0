import type { JsonObject } from "@bufbuild/protobuf";
import { cellText, valueAt } from "./json-path";

const GAP = "  ";
const MIN_WIDTH = 6;

/** Column headers: the path upper-cased (`data.cluster` → `DATA.CLUSTER`). */
export function header(path: string): string {
  return path.toUpperCase();
}

/**
 * Rows as aligned columns under upper-case headers. With `maxWidth` (the terminal's width),
 * the widest columns are narrowed until the line fits, their cells cut with "…".
 */
export function renderTable(rows: JsonObject[], columns: string[], maxWidth?: number): string {
  const cells = rows.map((row) => columns.map((column) => cellText(valueAt(row, column))));
  const widths = columns.map((column, i) => Math.max(header(column).length, ...cells.map((r) => r[i].length)));
  if (maxWidth !== undefined) fitWidths(widths, maxWidth);
  const line = (values: string[]) =>
    values
      .map((value, i) => (i === values.length - 1 ? clip(value, widths[i]) : clip(value, widths[i]).padEnd(widths[i])))
      .join(GAP)
      .trimEnd();
  return [line(columns.map(header)), ...cells.map(line)].join("\n") + "\n";
}

/** Narrows the widest column one character at a time until the columns and gaps fit `maxWidth`. */
function fitWidths(widths: number[], maxWidth: number): void {
  const total = () => widths.reduce((a, b) => a + b, 0) + GAP.length * (widths.length - 1);
  while (total() > maxWidth) {
    let widest = 0;
    for (let i = 1; i < widths.length; i++) if (widths[i] > widths[widest]) widest = i;
    if (widths[widest] <= MIN_WIDTH) return;
    widths[widest]--;
  }
}

function clip(value: string, width: number): string {
  return value.length <= width ? value : `${value.slice(0, Math.max(0, width - 1))}…`;
}
