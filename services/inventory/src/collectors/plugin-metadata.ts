import type { JsonObject } from "@bufbuild/protobuf";
import { invalidParameter } from "@cloudforet/errors";

/** Default of INVENTORY_PLUGIN_METADATA_MAX_BYTES: the largest Init metadata stored on a collector (JSON). */
export const DEFAULT_PLUGIN_METADATA_MAX_BYTES = 64 * 1024;

/**
 * A plugin's Init metadata, checked before it is stored: it is returned by every Get and List of
 * the collector, so a plugin answering 20 MB would make each of them 20 MB; and Postgres refuses
 * NUL in JSON text. Larger or invalid → INVALID_ARGUMENT, nothing stored.
 */
export function checkPluginMetadata(metadata: JsonObject, maxBytes: number): JsonObject {
  const serialized = JSON.stringify(metadata);
  const size = Buffer.byteLength(serialized);
  if (size > maxBytes) {
    throw invalidParameter(`The plugin's Init metadata is too large: ${size} bytes > ${maxBytes} limit`, { parameter: "plugin_info.metadata" });
  }
  // JSON.stringify escapes NUL as \u0000, which jsonb refuses.
  if (serialized.includes("\\u0000")) throw invalidParameter("The plugin's Init metadata contains a NUL character", { parameter: "plugin_info.metadata" });
  return metadata;
}
