import type { MessageInitShape } from "@bufbuild/protobuf";
import {
  CostSchema,
  CostService,
  type Cost,
  type CostServiceAnalyzeRequestSchema,
  type CostServiceAnalyzeResponse,
  type CostServiceBatchCreateRequestSchema,
  type CostServiceBatchCreateResponse,
  type CostServiceCreateRequestSchema,
} from "@cloudforet/proto/cloudforet/cost/v1/cost_pb";
import {
  DataSourceSchema,
  DataSourceService,
  type DataSource,
  type DataSourceServiceCreateRequestSchema,
} from "@cloudforet/proto/cloudforet/cost/v1/data_source_pb";
import { Handle } from "../handle";
import { asEntity, Pager, type ListQuery } from "../pager";
import type { RequestOptions, ServiceCaller } from "../rpc";

type CostItems = MessageInitShape<typeof CostServiceBatchCreateRequestSchema>["costs"];

export class DataSourceHandle extends Handle<DataSource> {}

/** Cost data sources. */
export class DataSources {
  constructor(private readonly rpc: ServiceCaller<typeof DataSourceService>) {}

  async create(input: MessageInitShape<typeof DataSourceServiceCreateRequestSchema>, options?: RequestOptions): Promise<DataSourceHandle> {
    return this.handle(asEntity(DataSourceSchema, await this.rpc.call((c, o) => c.create(input, o), options)));
  }
  async get(dataSourceId: string, options?: RequestOptions): Promise<DataSourceHandle> {
    return this.handle(await this.fetch(dataSourceId, options));
  }
  list(query?: ListQuery, options?: RequestOptions): Pager<DataSourceHandle> {
    return new Pager(async (q, o) => {
      const r = await this.rpc.call((c, co) => c.list({ query: q }, co), o);
      return { items: r.results.map((x) => this.handle(x)), totalCount: r.totalCount };
    }, query, options);
  }
  async delete(dataSourceId: string, options?: RequestOptions): Promise<void> {
    await this.remove(dataSourceId, options);
  }

  /** @internal */
  async fetch(dataSourceId: string, options?: RequestOptions): Promise<DataSource> {
    return asEntity(DataSourceSchema, await this.rpc.call((c, o) => c.get({ dataSourceId }, o), options));
  }
  /** @internal */
  async remove(dataSourceId: string, options?: RequestOptions): Promise<void> {
    await this.rpc.call((c, o) => c.delete({ dataSourceId }, o), options);
  }
  private handle(x: DataSource): DataSourceHandle {
    return new DataSourceHandle(x.dataSourceId, x, this);
  }
}

/** Cost rows. */
export class Costs {
  constructor(private readonly rpc: ServiceCaller<typeof CostService>) {}

  async create(input: MessageInitShape<typeof CostServiceCreateRequestSchema>, options?: RequestOptions): Promise<Handle<Cost>> {
    return this.handle(asEntity(CostSchema, await this.rpc.call((c, o) => c.create(input, o), options)));
  }
  /**
   * Records many rows in one call, with partial success (`failures`). The call carries an
   * idempotency key (the request's own, or `options.idempotencyKey`, or a fresh one), so a
   * retried batch is recorded once.
   */
  batchCreate(dataSourceId: string, costs: NonNullable<CostItems>, options: RequestOptions = {}): Promise<CostServiceBatchCreateResponse> {
    const idempotencyKey = options.idempotencyKey ?? globalThis.crypto.randomUUID();
    return this.rpc.call((c, o) => c.batchCreate({ dataSourceId, costs, idempotencyKey }, o), { ...options, idempotencyKey });
  }
  async get(costId: string, options?: RequestOptions): Promise<Handle<Cost>> {
    return this.handle(await this.fetch(costId, options));
  }
  list(query?: ListQuery, options?: RequestOptions): Pager<Handle<Cost>> {
    return new Pager(async (q, o) => {
      const r = await this.rpc.call((c, co) => c.list({ query: q }, co), o);
      return { items: r.results.map((x) => this.handle(x)), totalCount: r.totalCount };
    }, query, options);
  }
  /** Cost per period, grouped (`groupBy`) and filtered. */
  analyze(input: MessageInitShape<typeof CostServiceAnalyzeRequestSchema>, options?: RequestOptions): Promise<CostServiceAnalyzeResponse> {
    return this.rpc.call((c, o) => c.analyze(input, o), options);
  }

  /** @internal */
  async fetch(costId: string, options?: RequestOptions): Promise<Cost> {
    return asEntity(CostSchema, await this.rpc.call((c, o) => c.get({ costId }, o), options));
  }
  private handle(x: Cost): Handle<Cost> {
    return new Handle(x.costId, x, this);
  }
}
