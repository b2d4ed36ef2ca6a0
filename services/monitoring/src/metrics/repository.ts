import { and, eq, gte, inArray, lt, sql, type SQL } from "drizzle-orm";
import type { Database } from "@cloudforet/db";
import { queryRows, sqlState } from "@cloudforet/db";
import { col, defineQueryFields, json, listWith, type QueryInput } from "@cloudforet/query";
import { metrics } from "../db/schema";
import { dayOf, type DayPartitions } from "../partitions/day-partitions";
import type { ValidSample } from "./rules";

/** What MetricService.Query and its query language can see of a sample. */
export const metricFields = defineQueryFields(
  {
    metric_id: col(metrics.metricId),
    resource_id: col(metrics.resourceId),
    metric_name: col(metrics.metricName),
    value: col(metrics.value, "number"),
    unit: col(metrics.unit),
    timestamp: col(metrics.timestamp),
    dimensions: json(metrics.dimensions),
  },
  { keywordFields: ["resource_id", "metric_name"], defaultSort: [{ key: "timestamp" }, { key: "metric_id" }] },
);

/**
 * Rows per INSERT. Each chunk is one INSERT … SELECT FROM json_to_recordset($1): a single bound
 * parameter, parsed by Postgres, identical on postgres.js and PGlite, and (measured on this machine)
 * within noise of COPY for these rows. postgres.js's COPY FROM STDIN was tried and dropped: an error
 * raised after the data is sent (a partition dropped meanwhile) never settles its stream.
 */
const INSERT_CHUNK = 10_000;
/** SQLSTATE of "no partition of relation found for row": a partition another replica dropped. */
const NO_PARTITION = "23514";

export type Statistic = "AVG" | "MIN" | "MAX" | "SUM" | "COUNT";

const aggregate: Record<Statistic, SQL> = {
  AVG: sql`avg(${metrics.value})`,
  MIN: sql`min(${metrics.value})`,
  MAX: sql`max(${metrics.value})`,
  SUM: sql`sum(${metrics.value})`,
  COUNT: sql`count(*)::float8`,
};

export interface SeriesRequest {
  domainId: string;
  resourceIds: string[];
  metricName: string;
  startMs: number;
  endMs: number;
  periodSeconds: number;
  stat: Statistic;
}

export interface Bucket {
  resourceId: string;
  startMs: number;
  value: number;
}

export class MetricRepository {
  constructor(
    private readonly db: Database,
    private readonly partitions: DayPartitions,
  ) {}

  /**
   * Stores samples with multi-row inserts of up to 10,000 rows and returns how many were stored.
   * A sample without a metricId gets one from Postgres (gen_random_uuid), which keeps the bulk
   * path's payload small; Push passes its own to answer with it.
   */
  async insert(domainId: string, samples: (ValidSample & { metricId?: string })[]): Promise<number> {
    for (let from = 0; from < samples.length; from += INSERT_CHUNK) {
      await this.insertChunk(domainId, samples.slice(from, from + INSERT_CHUNK));
    }
    return samples.length;
  }

  private async insertChunk(domainId: string, chunk: (ValidSample & { metricId?: string })[]): Promise<void> {
    const days = new Set(chunk.map((sample) => dayOf(sample.at)));
    // Times travel as epoch milliseconds: cheaper for Postgres than parsing timestamptz text.
    const rows = JSON.stringify(chunk.map((s) => ({ i: s.metricId, r: s.resourceId, n: s.metricName, v: s.value, u: s.unit, t: s.at, d: s.dimensions })));
    const statement = sql`insert into ${metrics} (metric_id, domain_id, resource_id, metric_name, value, unit, "timestamp", dimensions)
      select coalesce(x.i, 'metric-' || gen_random_uuid()::text), ${domainId}::text, x.r, x.n, x.v, x.u, to_timestamp(x.t / 1000.0), x.d
      from json_to_recordset(${rows}::json) as x(i text, r text, n text, v float8, u text, t float8, d jsonb)`;
    await this.partitions.ensure(days);
    try {
      await this.db.execute(statement);
    } catch (err) {
      if (sqlState(err) !== NO_PARTITION) throw err;
      this.partitions.forget(days);
      await this.partitions.ensure(days);
      await this.db.execute(statement);
    }
  }

  /** Query(Query) over the domain's samples not older than `oldest`. */
  list(domainId: string, query: QueryInput, oldest: Date) {
    return listWith(this.db, metrics, metricFields, query, and(eq(metrics.domainId, domainId), gte(metrics.timestamp, oldest)));
  }

  /** Buckets aligned to multiples of the period since the epoch, computed in SQL; empty buckets are absent. */
  async buckets(request: SeriesRequest): Promise<Bucket[]> {
    const period = request.periodSeconds;
    const rows = await queryRows<{ resource_id: string; bucket: string | number; value: number | string }>(
      this.db,
      sql`select ${metrics.resourceId} as resource_id,
                 floor(extract(epoch from ${metrics.timestamp}) / ${period}::int)::bigint as bucket,
                 ${aggregate[request.stat]} as value
          from ${metrics}
          where ${and(
            eq(metrics.domainId, request.domainId),
            eq(metrics.metricName, request.metricName),
            inArray(metrics.resourceId, [...new Set(request.resourceIds)]),
            gte(metrics.timestamp, new Date(request.startMs)),
            lt(metrics.timestamp, new Date(request.endMs)),
          )}
          group by 1, 2
          order by 1, 2`,
    );
    return rows.map((row) => ({ resourceId: row.resource_id, startMs: Number(row.bucket) * period * 1000, value: Number(row.value) }));
  }
}
