import { timestampDate, type Timestamp } from "@bufbuild/protobuf/wkt";
import type { BarDatum } from "../../components/BarChart";

/** The windows a metric can be looked at over, with a bucket width that keeps ≤ ~100 bars. */
export const WINDOWS = {
  "1h": { label: "last hour", seconds: 3_600, period: 60 },
  "6h": { label: "last 6 hours", seconds: 6 * 3_600, period: 300 },
  "24h": { label: "last 24 hours", seconds: 86_400, period: 900 },
  "7d": { label: "last 7 days", seconds: 7 * 86_400, period: 3_600 },
} as const;
export type WindowKey = keyof typeof WINDOWS;

export const isWindow = (w: string | null): w is WindowKey => !!w && w in WINDOWS;

/**
 * A bucket's label (UTC): "13:05" within a day (unique, since a window of ≤ 24 h has each time of day
 * once), else "2026-12-07 13:00", which the chart shows from the month on.
 */
export function bucketLabel(ts: Timestamp | undefined, windowSeconds: number): string {
  if (!ts) return "";
  const iso = timestampDate(ts).toISOString();
  return windowSeconds <= 86_400 ? iso.slice(11, 16) : iso.slice(0, 16).replace("T", " ");
}

export function toBars(points: { timestamp?: Timestamp; value: number }[], series: string, windowSeconds: number): BarDatum[] {
  return points.map((p) => ({ x: bucketLabel(p.timestamp, windowSeconds), series, value: p.value }));
}

export function summarize(points: { value: number }[]): { latest: number; min: number; max: number } | undefined {
  if (points.length === 0) return undefined;
  const values = points.map((p) => p.value);
  return { latest: values[values.length - 1], min: Math.min(...values), max: Math.max(...values) };
}
