import type { MessageInitShape } from "@bufbuild/protobuf";
import {
  MetricService,
  type Metric,
  type MetricServiceGetDataRequestSchema,
  type MetricServiceGetDataResponse,
  type MetricServiceIngestRequestSchema,
  type MetricServiceIngestResponse,
  type MetricServicePushBatchRequestSchema,
  type MetricServicePushBatchResponse,
  type MetricServicePushRequestSchema,
  type MetricServicePushResponse,
} from "@cloudforet/proto/cloudforet/monitoring/v1/metric_pb";
import { Pager, type ListQuery } from "../pager";
import type { RequestOptions, ServiceCaller } from "../rpc";

type Sample = NonNullable<MessageInitShape<typeof MetricServiceIngestRequestSchema>["samples"]>[number];

/** Metric samples: push one or many, stream a large ingest, query samples and series. */
export class Metrics {
  constructor(private readonly rpc: ServiceCaller<typeof MetricService>) {}

  push(input: MessageInitShape<typeof MetricServicePushRequestSchema>, options?: RequestOptions): Promise<MetricServicePushResponse> {
    return this.rpc.call((c, o) => c.push(input, o), options);
  }
  /** Several metrics of one resource at one time, with partial success. */
  pushBatch(input: MessageInitShape<typeof MetricServicePushBatchRequestSchema>, options?: RequestOptions): Promise<MetricServicePushBatchResponse> {
    return this.rpc.call((c, o) => c.pushBatch(input, o), options);
  }
  /** Streams samples of any resources to the service, `batchSize` per message (default 1000). */
  ingest(samples: Iterable<Sample> | AsyncIterable<Sample>, settings: { batchSize?: number } = {}, options?: RequestOptions): Promise<MetricServiceIngestResponse> {
    const size = Math.max(1, settings.batchSize ?? 1000);
    async function* messages() {
      let batch: Sample[] = [];
      for await (const sample of samples) {
        batch.push(sample);
        if (batch.length >= size) {
          yield { samples: batch };
          batch = [];
        }
      }
      if (batch.length > 0) yield { samples: batch };
    }
    return this.rpc.call((c, o) => c.ingest(messages(), o), options);
  }
  /** Samples matching a query, paged by themselves. */
  list(query?: ListQuery, options?: RequestOptions): Pager<Metric> {
    return new Pager(async (q, o) => {
      const r = await this.rpc.call((c, co) => c.query({ query: q }, co), o);
      return { items: r.results, totalCount: r.totalCount };
    }, query, options);
  }
  /** Time series of one metric for some resources, aggregated per interval. */
  getData(input: MessageInitShape<typeof MetricServiceGetDataRequestSchema>, options?: RequestOptions): Promise<MetricServiceGetDataResponse> {
    return this.rpc.call((c, o) => c.getData(input, o), options);
  }
}
