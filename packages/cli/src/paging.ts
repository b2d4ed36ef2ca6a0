/** The page size of a list: no more than the limit asks for, at most 500 per request. */
export function pageSizeFor(limit: number | undefined): number {
  return Math.min(500, Math.max(1, limit ?? 500));
}

/** Stops an iteration after `limit` items (leaving the loop stops the SDK's paging). */
export async function* limited<T>(items: AsyncIterable<T>, limit: number | undefined): AsyncIterable<T> {
  if (limit !== undefined && limit <= 0) return;
  let n = 0;
  for await (const item of items) {
    yield item;
    if (limit !== undefined && ++n >= limit) return;
  }
}
