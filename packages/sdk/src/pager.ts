import { create, fromJson, type DescMessage, type JsonValue, type MessageShape } from "@bufbuild/protobuf";
import { ValueSchema } from "@bufbuild/protobuf/wkt";
import { QuerySchema, type Query } from "@cloudforet/proto/cloudforet/common/v1/query_pb";
import type { RequestOptions } from "./rpc";

/** A filter of the query language: `{ k: "provider", v: "nutanix" }`, `o` defaults to `eq`. */
export interface FilterInput {
  k: string;
  v?: JsonValue;
  o?: string;
}

/** What a list asks for (SPEC §5), with plain JSON values in the filters. */
export interface ListQuery {
  filter?: FilterInput[];
  filterOr?: FilterInput[];
  sort?: { key: string; desc?: boolean };
  /** Paths to keep in each result. */
  only?: string[];
  keyword?: string;
  /** Items per request when iterating (default 500, at most 1000). */
  pageSize?: number;
}

/** The default page size of an iteration. */
export const DEFAULT_PAGE_SIZE = 500;

/** The Query message of a list query and one page of it. */
export function toQuery(query: ListQuery = {}, page?: { start: number; limit: number }): Query {
  const filter = (f: FilterInput) => ({ k: f.k, o: f.o ?? "", v: f.v === undefined ? undefined : fromJson(ValueSchema, f.v) });
  return create(QuerySchema, {
    filter: (query.filter ?? []).map(filter),
    filterOr: (query.filterOr ?? []).map(filter),
    sort: query.sort ? { key: query.sort.key, desc: query.sort.desc ?? false } : undefined,
    only: query.only ?? [],
    keyword: query.keyword ?? "",
    page,
  });
}

/** One page of a list. */
export interface Page<T> {
  items: T[];
  /** Matches of the whole query, not just this page. */
  totalCount: number;
  start: number;
  limit: number;
}

type Fetch<T> = (query: Query, options: RequestOptions) => Promise<{ items: T[]; totalCount: number }>;

/**
 * A list that pages by itself: iterate it (`for await`), take one `page()`, or collect `all()`.
 * Pages are fetched lazily, one request per page, in the list's stable order.
 */
export class Pager<T> implements AsyncIterable<T> {
  constructor(
    private readonly fetch: Fetch<T>,
    private readonly query: ListQuery = {},
    private readonly options: RequestOptions = {},
  ) {}

  /** One page: `start` is a 0-based offset, `limit` at most 1000 (default: the page size). */
  async page(start = 0, limit = this.pageSize()): Promise<Page<T>> {
    const { items, totalCount } = await this.fetch(toQuery(this.query, { start, limit }), this.options);
    return { items, totalCount, start, limit };
  }

  /** The number of matches, without fetching them. */
  async count(): Promise<number> {
    const query = toQuery(this.query, { start: 0, limit: 1 });
    query.countOnly = true;
    return (await this.fetch(query, this.options)).totalCount;
  }

  /** Every item, fetched page by page. */
  async all(): Promise<T[]> {
    const items: T[] = [];
    for await (const item of this) items.push(item);
    return items;
  }

  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    const limit = this.pageSize();
    for (let start = 0; ; ) {
      const page = await this.page(start, limit);
      for (const item of page.items) yield item;
      start += page.items.length;
      if (page.items.length < limit || start >= page.totalCount) return;
    }
  }

  private pageSize(): number {
    return Math.min(1000, Math.max(1, this.query.pageSize ?? DEFAULT_PAGE_SIZE));
  }
}

/** Copies the fields a flattened response shares with the entity message (Get/Create/Update responses). */
export function asEntity<D extends DescMessage>(schema: D, response: object): MessageShape<D> {
  return create(schema, response as never);
}
