/**
 * The bounds every query is held to. They keep one request from turning into an
 * unbounded scan, a statement with too many bind parameters or a regex the database
 * refuses to compile.
 */
export const QUERY_LIMITS = {
  /** Filters in `filter` plus `filter_or`. */
  maxFilters: 100,
  /** Values in one `in`, `not_in`, `contain_in` or `not_contain_in` list. */
  maxListValues: 1000,
  defaultPageLimit: 100,
  maxPageLimit: 1000,
  /** `page.start` fits the int32 of the proto. */
  maxPageStart: 2_147_483_647,
  /** Characters in a key (`data.a.b.c`). */
  maxKeyLength: 256,
  /** Segments after the field name in a JSON path (`data.a.b.c` has three). */
  maxPathDepth: 8,
  /** Characters in one string value. */
  maxStringLength: 4096,
  /** Nesting of an object or array value (`eq` against a JSON sub-document). */
  maxValueDepth: 8,
  /** Characters of a `regex` pattern. */
  maxRegexLength: 256,
  /** Characters of `keyword`. */
  maxKeywordLength: 256,
  maxOnly: 100,
  maxSortKeys: 5,
  maxGroupKeys: 10,
  maxStatistics: 50,
  /**
   * A List counts matching rows exactly up to this many (or up to the end of the requested
   * page, when that is further); beyond it total_count is a lower bound (see listWith).
   * Elasticsearch's track_total_hits uses the same default for the same reason.
   */
  exactCountCap: 10_000,
} as const;
