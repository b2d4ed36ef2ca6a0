import { and, eq, gte, inArray, lt, sql, type SQL } from "drizzle-orm";
import type { Database } from "@cloudforet/db";
import { queryRows, sqlState } from "@cloudforet/db";
import { col, defineQueryFields, json, listWith, scopeCondition, type QueryInput, type TenantScope } from "@cloudforet/query";
import { ingestKeys, metrics } from "../db/schema";
import { dayOf, partitionName, type DayPartitions } from "../partitions/day-partitions";
import { copyIn, postgresJsClientOf, type CopyTarget, type PostgresJsClient } from "./copy-in";
import type { ValidSample } from "./metrics";
import { SAMPLE_COLUMNS, sampleLines } from "./sample-lines";

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
 * Rows per INSERT on the insert path. Each chunk is one INSERT … SELECT FROM jsonb_to_recordset($1):
 * a single bound parameter, parsed by Postgres, identical on postgres.js and PGlite (jsonb, not
 * json: json_to_recordset parses each row's dimensions again, measured about a third slower).
 * Measured on Postgres 15 it still costs two to three times COPY for the same rows, so on
 * postgres.js bulk writes use COPY instead (see insert).
 */
const INSERT_CHUNK = 10_000;
/**
 * From how many samples a write on postgres.js uses COPY: below it the extra round trip of COPY
 * (CopyInResponse before any data) costs more than parsing the rows as JSON. Push writes one.
 */
const COPY_MIN_SAMPLES = 64;
/** SQLSTATE of "no partition of relation found for row": a partition another replica dropped. */
const NO_PARTITION = "23514";
/** SQLSTATE of "relation does not exist": COPY named a day partition another replica dropped. */
const UNDEFINED_TABLE = "42P01";

type NewSample = ValidSample & { metricId?: string };

/** How long an idempotency key is remembered (proto: 24 h). */
export const IDEMPOTENCY_WINDOW_HOURS = 24;

/** What a write with an idempotency key did: stored its samples, or found the key and stored nothing. */
export type OnceOutcome = { stored: true } | { stored: false; response: Record<string, unknown> };

export type Statistic = "AVG" | "MIN" | "MAX" | "SUM" | "COUNT";

const aggregate: Record<Statistic, SQL> = {
  AVG: sql`avg(${metrics.value})`,
  MIN: sql`min(${metrics.value})`,
  MAX: sql`max(${metrics.value})`,
  SUM: sql`sum(${metrics.value})`,
  COUNT: sql`count(*)::float8`,
};

/**
 * The samples a scope may read. Domain-wide samples (workspace_id "") are the admins' alone, so a
 * member sees only its workspaces' (the shared tenant scope, without domain-wide rows).
 */
const readable = (scope: TenantScope) => scopeCondition(scope, metrics);

export interface SeriesRequest {
  /** What the caller may read. */
  scope: TenantScope;
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
  /** The postgres.js client under drizzle, for COPY; undefined on PGlite, which inserts instead. */
  private readonly copyClient: PostgresJsClient | undefined;

  constructor(
    private readonly db: Database,
    private readonly partitions: DayPartitions,
  ) {
    this.copyClient = postgresJsClientOf(db);
  }

  /**
   * Stores samples and returns how many were stored. On postgres.js a bulk write is one COPY per UTC
   * day straight into that day's partition (no tuple routing, and a dropped partition fails the
   * statement before any data is sent); otherwise multi-row inserts of up to 10,000 rows. Either way
   * each statement stores all its rows or none. A sample without a metricId gets a new
   * `metric-<uuid>`; Push passes its own to answer with it.
   */
  async insert(domainId: string, workspaceId: string, samples: NewSample[]): Promise<number> {
    if (this.copyClient && samples.length >= COPY_MIN_SAMPLES) {
      await this.copy(this.copyClient, domainId, workspaceId, samples);
      return samples.length;
    }
    for (let from = 0; from < samples.length; from += INSERT_CHUNK) {
      await this.insertChunk(domainId, workspaceId, samples.slice(from, from + INSERT_CHUNK));
    }
    return samples.length;
  }

  /**
   * Stores samples at most once per (domain, idempotency key): the key is claimed in the same
   * transaction as the samples, so a retry (even a concurrent one, which waits on the primary key)
   * stores nothing and gets the first write's `response` back. A key older than the window is
   * forgotten first. Same COPY/INSERT paths as insert, inside one transaction.
   */
  async insertOnce(domainId: string, workspaceId: string, samples: NewSample[], idempotencyKey: string, response: Record<string, unknown>): Promise<OnceOutcome> {
    const days = byDay(samples);
    const forget = `delete from "monitoring"."ingest_keys" where domain_id = $1 and idempotency_key = $2 and created_at < now() - interval '${IDEMPOTENCY_WINDOW_HOURS} hours'`;
    const claim = `insert into "monitoring"."ingest_keys" (domain_id, idempotency_key, response) values ($1, $2, $3::text::jsonb) on conflict do nothing returning 1 as claimed`;
    const replay = `select response::text as response from "monitoring"."ingest_keys" where domain_id = $1 and idempotency_key = $2`;
    const params = [domainId, idempotencyKey];
    const client = this.copyClient;
    const attempt = async (): Promise<OnceOutcome> => {
      await this.partitions.ensure(days.keys());
      if (client) {
        return client.begin(async (tx) => {
          await tx.unsafe(forget, params);
          const claimed = (await tx.unsafe(claim, [...params, JSON.stringify(response)])) as unknown[];
          if (claimed.length === 0) {
            const [row] = (await tx.unsafe(replay, params)) as { response: string }[];
            return { stored: false, response: JSON.parse(row.response) as Record<string, unknown> };
          }
          for (const [day, ofDay] of days) {
            await copyIn(tx, `copy "monitoring"."${partitionName(day)}" (${SAMPLE_COLUMNS}) from stdin`, sampleLines(domainId, workspaceId, ofDay));
          }
          return { stored: true } as const;
        });
      }
      return this.db.transaction(async (tx) => {
        await tx.delete(ingestKeys).where(and(eq(ingestKeys.domainId, domainId), eq(ingestKeys.idempotencyKey, idempotencyKey), lt(ingestKeys.createdAt, sql`now() - ${IDEMPOTENCY_WINDOW_HOURS}::int * interval '1 hour'`)));
        const claimed = await tx.insert(ingestKeys).values({ domainId, idempotencyKey, response }).onConflictDoNothing().returning({ key: ingestKeys.idempotencyKey });
        if (claimed.length === 0) {
          const [row] = await tx.select({ response: ingestKeys.response }).from(ingestKeys).where(and(eq(ingestKeys.domainId, domainId), eq(ingestKeys.idempotencyKey, idempotencyKey)));
          return { stored: false, response: row.response };
        }
        for (let from = 0; from < samples.length; from += INSERT_CHUNK) {
          await tx.execute(insertStatement(domainId, workspaceId, samples.slice(from, from + INSERT_CHUNK)));
        }
        return { stored: true } as const;
      });
    };
    try {
      return await attempt();
    } catch (err) {
      const state = sqlState(err);
      if (state !== UNDEFINED_TABLE && state !== NO_PARTITION) throw err;
      // A partition was dropped by another replica since this one created it; the transaction stored nothing.
      this.partitions.forget(days.keys());
      return attempt();
    }
  }

  /** Forgets idempotency keys older than the window (run by the retention sweep). */
  async forgetIdempotencyKeys(): Promise<void> {
    await this.db.delete(ingestKeys).where(lt(ingestKeys.createdAt, sql`now() - ${IDEMPOTENCY_WINDOW_HOURS}::int * interval '1 hour'`));
  }

  /**
   * One COPY per day into its partition. Samples of several days (a batch across midnight) are
   * copied in one transaction, so the batch stays all-or-nothing as its single INSERT was.
   */
  private async copy(client: PostgresJsClient, domainId: string, workspaceId: string, samples: NewSample[]): Promise<void> {
    const days = byDay(samples);
    const copyDays = async (target: CopyTarget) => {
      for (const [day, ofDay] of days) {
        await copyIn(target, `copy "monitoring"."${partitionName(day)}" (${SAMPLE_COLUMNS}) from stdin`, sampleLines(domainId, workspaceId, ofDay));
      }
    };
    const write = () => (days.size === 1 ? copyDays(client) : client.begin(copyDays));
    await this.partitions.ensure(days.keys());
    try {
      await write();
    } catch (err) {
      if (sqlState(err) !== UNDEFINED_TABLE) throw err;
      // A partition was dropped by another replica since this one created it; nothing was stored.
      this.partitions.forget(days.keys());
      await this.partitions.ensure(days.keys());
      await write();
    }
  }

  private async insertChunk(domainId: string, workspaceId: string, chunk: NewSample[]): Promise<void> {
    const days = new Set(chunk.map((sample) => dayOf(sample.at)));
    const statement = insertStatement(domainId, workspaceId, chunk);
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

  /** Query(Query) over the samples the caller may read (`scope`) not older than `oldest`. */
  list(scope: TenantScope, query: QueryInput, oldest: Date) {
    return listWith(this.db, metrics, metricFields, query, and(readable(scope), gte(metrics.timestamp, oldest)));
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
            readable(request.scope),
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

/** One multi-row INSERT of a chunk. Times travel as epoch milliseconds: cheaper for Postgres than parsing timestamptz text. */
function insertStatement(domainId: string, workspaceId: string, chunk: NewSample[]): SQL {
  const rows = JSON.stringify(chunk.map((s) => ({ i: s.metricId, r: s.resourceId, n: s.metricName, v: s.value, u: s.unit, t: s.at, d: s.dimensions })));
  return sql`insert into ${metrics} (metric_id, domain_id, workspace_id, resource_id, metric_name, value, unit, "timestamp", dimensions)
    select coalesce(x.i, 'metric-' || gen_random_uuid()::text), ${domainId}::text, ${workspaceId}::text, x.r, x.n, x.v, x.u, to_timestamp(x.t / 1000.0), x.d
    from jsonb_to_recordset(${rows}::jsonb) as x(i text, r text, n text, v float8, u text, t float8, d jsonb)`;
}

/** Samples grouped by UTC day, in their order within each day. */
function byDay(samples: NewSample[]): Map<number, NewSample[]> {
  const days = new Map<number, NewSample[]>();
  for (const sample of samples) {
    const day = dayOf(sample.at);
    const ofDay = days.get(day);
    if (ofDay) ofDay.push(sample);
    else days.set(day, [sample]);
  }
  return days;
}
