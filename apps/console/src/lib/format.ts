import { timestampDate, type Timestamp } from "@bufbuild/protobuf/wkt";

export function formatTime(ts: Timestamp | undefined): string {
  if (!ts) return "—";
  const d = timestampDate(ts);
  return d.getTime() === 0 ? "—" : d.toLocaleString();
}

export function formatValue(value: unknown): string {
  if (value === undefined || value === null || value === "") return "—";
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}
