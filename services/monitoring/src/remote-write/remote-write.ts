import { createHash } from "node:crypto";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { checkSample, type SampleProblem, type TimeWindow, type ValidSample } from "../metrics/metrics";
import type { TimeSeries } from "./write-request";

/**
 * How a Prometheus series becomes our samples (README "Prometheus remote write"):
 * - `__name__` is the metric name (a series without one is refused);
 * - the resource is the `resource_id` label when present (and then not kept as a dimension), else
 *   `instance`, else `job`, else "prometheus";
 * - every other label is a dimension, `instance` and `job` included;
 * - Prometheus's staleness markers (a NaN with a fixed bit pattern) are skipped: they say a series
 *   ended, not a value. Other NaN and ±Inf values are refused, as every write RPC refuses them.
 */
export const RESOURCE_LABELS = ["resource_id", "instance", "job"] as const;
export const DEFAULT_RESOURCE_ID = "prometheus";

/** A WriteRequest holds at most this many samples (Prometheus sends 2,000 per request by default). */
export const MAX_SAMPLES_PER_WRITE = 100_000;

export interface MappedWrite {
  samples: ValidSample[];
  /** Samples refused, and the first problem (for the 400 answer). */
  refused: number;
  firstProblem?: SampleProblem & { metricName: string };
  /** Staleness markers skipped. */
  stale: number;
}

/** Prometheus's staleness marker: the NaN 0x7ff0000000000002 (prometheus/model/value.StaleNaN). */
const STALE_NAN_BITS = 0x7ff0000000000002n;
const bits = new DataView(new ArrayBuffer(8));
function isStaleMarker(value: number): boolean {
  if (!Number.isNaN(value)) return false;
  bits.setFloat64(0, value);
  return bits.getBigUint64(0) === STALE_NAN_BITS;
}

/** Maps the series to validated samples; refused ones are counted, never stored. */
export function samplesOf(timeseries: TimeSeries[], window: TimeWindow): MappedWrite {
  const out: MappedWrite = { samples: [], refused: 0, stale: 0 };
  for (const series of timeseries) {
    let metricName = "";
    const labels: Record<string, string> = {};
    for (const label of series.labels) {
      if (label.name === "__name__") metricName = label.value;
      else labels[label.name] = label.value;
    }
    const resourceLabel = RESOURCE_LABELS.find((name) => labels[name]);
    const resourceId = resourceLabel ? labels[resourceLabel] : DEFAULT_RESOURCE_ID;
    const dimensions = { ...labels };
    if (resourceLabel === "resource_id") delete dimensions.resource_id;
    for (const raw of series.samples) {
      if (isStaleMarker(raw.value)) {
        out.stale++;
        continue;
      }
      const checked = checkSample({ resourceId, metricName, value: raw.value, unit: "", timestamp: timestampFromMs(raw.timestampMs), dimensions }, window);
      if (checked.ok) out.samples.push(checked.sample);
      else {
        out.refused++;
        out.firstProblem ??= { ...checked.problem, metricName };
      }
    }
  }
  return out;
}

/**
 * The idempotency key of one write: Prometheus retries a failed request with exactly the same body,
 * so the same bytes to the same workspace are the same write (a repeated write stores nothing new).
 */
export function remoteWriteKey(workspaceId: string, body: Uint8Array): string {
  return `prometheus-remote-write:${createHash("sha256").update(workspaceId).update("\n").update(body).digest("hex")}`;
}
