import { createHash } from "node:crypto";
import type { JsonObject, JsonValue } from "@bufbuild/protobuf";

/**
 * The `data.*` and `tags.*` keys a cloud service type says its users search and group by, as
 * CloudForet writes them in the type's metadata: `metadata.view.search` is a list of
 * `{key, name}` (plain strings are accepted too). Each such key gets a real expression index
 * on cloud_services (see SearchKeyIndexer); these bounds keep that set small.
 */
export const SEARCH_KEY_LIMITS = {
  /** Keys of one type that get an index; the rest are searched through the GIN indexes only. */
  perType: 10,
  /** Key indexes on the table, all types and domains together (each slows every write a little). */
  total: 32,
  /** Segments after `data`/`tags`. */
  depth: 4,
} as const;

/** A declarable key: data or tags, then 1..depth named segments (no array indexes). */
const keyPattern = /^(data|tags)(\.[A-Za-z_][A-Za-z0-9_-]{0,62}){1,4}$/;

export const isIndexableKey = (key: string) => keyPattern.test(key) && key.split(".").length - 1 <= SEARCH_KEY_LIMITS.depth;

/** The indexable keys a type's metadata declares, deduplicated, at most SEARCH_KEY_LIMITS.perType. */
export function declaredSearchKeys(metadata: JsonObject | undefined): string[] {
  const view = metadata?.view;
  const search = view && typeof view === "object" && !Array.isArray(view) ? (view as JsonObject).search : undefined;
  if (!Array.isArray(search)) return [];
  const keys = new Set<string>();
  for (const item of search as JsonValue[]) {
    const key = typeof item === "string" ? item : item && typeof item === "object" && !Array.isArray(item) ? (item as JsonObject).key : undefined;
    if (typeof key === "string" && isIndexableKey(key)) keys.add(key);
    if (keys.size === SEARCH_KEY_LIMITS.perType) break;
  }
  return [...keys];
}

/** Prefix of every key index; how the indexer counts its own. */
export const KEY_INDEX_PREFIX = "cs_key_";

/**
 * The index of a key, named from the key alone so that every replica and every type that
 * declares it agree on one index: a readable part plus a hash, within Postgres' 63 bytes.
 */
export function searchKeyIndexName(key: string): string {
  const readable = key.toLowerCase().replace(/[^a-z0-9]+/g, "_").slice(0, 40);
  const hash = createHash("sha256").update(key).digest("hex").slice(0, 10);
  return `${KEY_INDEX_PREFIX}${readable}_${hash}`;
}

/**
 * The indexed expression: `domain_id`, then the jsonb at the path exactly as the query compiler
 * sorts and groups by it: the `->` chain with JSON null folded into SQL NULL
 * (`NULLIF(data -> 'cluster', 'null'::jsonb)`: missing and null are one group), so sort and group
 * by on the key, inside one domain, walk this index. Segments passed keyPattern, so quoting them
 * is enough.
 */
export function searchKeyExpression(key: string): string {
  const [column, ...path] = key.split(".");
  return `NULLIF("${column}"${path.map((segment) => ` -> '${segment}'`).join("")}, 'null'::jsonb)`;
}

export function createKeyIndexSql(schema: string, table: string, key: string): string {
  return `CREATE INDEX CONCURRENTLY IF NOT EXISTS "${searchKeyIndexName(key)}" ON "${schema}"."${table}" ("domain_id", (${searchKeyExpression(key)}))`;
}
