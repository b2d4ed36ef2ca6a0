import { randomUUID } from "node:crypto";
import { copyText } from "./copy-in";
import type { ValidSample } from "./metrics";

/** The columns, in the order sampleLines writes them. */
export const SAMPLE_COLUMNS = `metric_id, domain_id, workspace_id, resource_id, metric_name, value, unit, "timestamp", dimensions`;

/**
 * Bytes per buffer handed to the COPY stream: large enough that the per-write cost vanishes, small
 * enough that Postgres starts parsing while the rest is still being formatted.
 */
const CHUNK_BYTES = 256 * 1024;

/**
 * Samples as COPY text-format lines (SAMPLE_COLUMNS), UTF-8 encoded into buffers of about
 * CHUNK_BYTES. Each line is encoded as soon as it is formatted: appending 10,000 lines to one string
 * first builds a rope of ~100,000 pieces that the stream must then flatten, which measured twice the
 * cost of the formatting itself. Ids are made here when a sample has none (the `metric-<uuid>`
 * shape gen_random_uuid gave in SQL); numbers print as JavaScript's shortest round-trip form, which
 * float8 reads back exactly.
 */
export function* sampleLines(domainId: string, workspaceId: string, samples: readonly (ValidSample & { metricId?: string })[]): Generator<Buffer> {
  const tenant = `${copyText(domainId)}\t${copyText(workspaceId)}`;
  let buffer = Buffer.allocUnsafe(CHUNK_BYTES);
  let used = 0;
  // Samples arrive grouped by instant (one scrape of many series): format each instant once.
  let lastAt = NaN;
  let lastIso = "";
  for (const s of samples) {
    if (s.at !== lastAt) {
      lastAt = s.at;
      lastIso = new Date(s.at).toISOString();
    }
    const id = s.metricId === undefined ? `metric-${randomUUID()}` : copyText(s.metricId);
    const line = `${id}\t${tenant}\t${copyText(s.resourceId)}\t${copyText(s.metricName)}\t${s.value}\t${copyText(s.unit)}\t${lastIso}\t${copyText(JSON.stringify(s.dimensions))}\n`;
    const room = line.length * 3; // UTF-8 needs at most 3 bytes per UTF-16 unit
    if (CHUNK_BYTES - used < room && used > 0) {
      yield buffer.subarray(0, used);
      buffer = Buffer.allocUnsafe(CHUNK_BYTES);
      used = 0;
    }
    if (room > CHUNK_BYTES) {
      yield Buffer.from(line); // a line longer than a chunk (large dimension values) goes alone
      continue;
    }
    used += buffer.write(line, used);
  }
  if (used > 0) yield buffer.subarray(0, used);
}
