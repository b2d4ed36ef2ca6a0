import { create, fromJson, type JsonObject, type JsonValue, type MessageInitShape } from "@bufbuild/protobuf";
import { ValueSchema } from "@bufbuild/protobuf/wkt";
import {
  CloudServiceSchema,
  CloudServiceService,
  CloudServiceServiceUpsertRequestSchema,
  CloudServiceServiceBatchUpsertRequestSchema,
  type CloudServiceServiceUpsertRequest,
  type CloudService,
  type CloudServiceServiceBatchUpsertRequest,
  type CloudServiceServiceBatchUpsertResponse,
  type CloudServiceServiceCreateRequestSchema,
  type CloudServiceServiceUpdateRequestSchema,
} from "@cloudforet/proto/cloudforet/cloud_service/v1/cloud_service_pb";
import {
  CloudServiceTypeSchema,
  CloudServiceTypeService,
  type CloudServiceType,
  type CloudServiceTypeServiceCreateRequestSchema,
} from "@cloudforet/proto/cloudforet/cloud_service/v1/cloud_service_type_pb";
import { StatQuerySchema, type StatQuery } from "@cloudforet/proto/cloudforet/common/v1/query_pb";
import { Handle } from "../handle";
import { asEntity, Pager, type FilterInput, type ListQuery } from "../pager";
import type { RequestOptions, ServiceCaller } from "../rpc";

export type UpsertInput = MessageInitShape<typeof CloudServiceServiceUpsertRequestSchema>;
type CloudServiceChanges = Omit<MessageInitShape<typeof CloudServiceServiceUpdateRequestSchema>, "cloudServiceId" | "$typeName">;

/** A stat query (SPEC §5) with plain JSON values in the filters. */
export interface StatQueryInput {
  filter?: FilterInput[];
  filterOr?: FilterInput[];
  aggregate?: MessageInitShape<typeof StatQuerySchema>["aggregate"];
  sort?: { key: string; desc?: boolean };
  page?: { start?: number; limit?: number };
}

function toStatQuery(input: StatQueryInput): StatQuery {
  const filter = (f: FilterInput) => ({ k: f.k, o: f.o ?? "", v: f.v === undefined ? undefined : fromJson(ValueSchema, f.v as JsonValue) });
  return create(StatQuerySchema, {
    filter: (input.filter ?? []).map(filter),
    filterOr: (input.filterOr ?? []).map(filter),
    aggregate: input.aggregate ?? [],
    sort: input.sort ? { key: input.sort.key, desc: input.sort.desc ?? false } : undefined,
    page: input.page ? { start: input.page.start ?? 0, limit: input.page.limit ?? 0 } : undefined,
  });
}

export class CloudServiceHandle extends Handle<CloudService> {
  async update(changes: CloudServiceChanges, options?: RequestOptions): Promise<this> {
    this.data = await (this.ops as CloudServices).patch(this.id, changes, options);
    return this;
  }
}

/** Cloud services (the collected resources). */
export class CloudServices {
  constructor(private readonly rpc: ServiceCaller<typeof CloudServiceService>) {}

  async create(input: MessageInitShape<typeof CloudServiceServiceCreateRequestSchema>, options?: RequestOptions): Promise<CloudServiceHandle> {
    return this.handle(asEntity(CloudServiceSchema, await this.rpc.call((c, o) => c.create(input, o), options)));
  }
  /** Creates the resource or updates the one its match rules find. */
  async upsert(input: UpsertInput, options?: RequestOptions): Promise<CloudServiceHandle> {
    return this.handle(asEntity(CloudServiceSchema, await this.rpc.call((c, o) => c.upsert(input, o), options)));
  }
  /**
   * Upserts many resources over one client stream, `batchSize` per message (default 500).
   * Item errors do not fail the call: they come back in `errors`.
   */
  async batchUpsert(
    items: Iterable<UpsertInput> | AsyncIterable<UpsertInput>,
    settings: { batchSize?: number } = {},
    options?: RequestOptions,
  ): Promise<CloudServiceServiceBatchUpsertResponse> {
    const size = Math.max(1, settings.batchSize ?? 500);
    async function* messages(): AsyncIterable<CloudServiceServiceBatchUpsertRequest> {
      let batch: CloudServiceServiceUpsertRequest[] = [];
      for await (const item of items) {
        batch.push(create(CloudServiceServiceUpsertRequestSchema, item));
        if (batch.length >= size) {
          yield create(CloudServiceServiceBatchUpsertRequestSchema, { items: batch });
          batch = [];
        }
      }
      if (batch.length > 0) yield create(CloudServiceServiceBatchUpsertRequestSchema, { items: batch });
    }
    return this.rpc.call((c, o) => c.batchUpsert(messages(), o), options);
  }
  async get(cloudServiceId: string, options?: RequestOptions): Promise<CloudServiceHandle> {
    return this.handle(await this.fetch(cloudServiceId, options));
  }
  list(query?: ListQuery, options?: RequestOptions): Pager<CloudServiceHandle> {
    return new Pager(async (q, o) => {
      const r = await this.rpc.call((c, co) => c.list({ query: q }, co), o);
      return { items: r.results.map((x) => this.handle(x)), totalCount: r.totalCount };
    }, query, options);
  }
  /** Aggregates (counts, sums, …) grouped by keys; one JSON object per group. */
  async stat(query: StatQueryInput, options?: RequestOptions): Promise<JsonObject[]> {
    const r = await this.rpc.call((c, o) => c.stat({ query: toStatQuery(query) }, o), options);
    return r.results;
  }
  async update(cloudServiceId: string, changes: CloudServiceChanges, options?: RequestOptions): Promise<CloudServiceHandle> {
    return this.handle(await this.patch(cloudServiceId, changes, options));
  }
  async delete(cloudServiceId: string, options?: RequestOptions): Promise<void> {
    await this.remove(cloudServiceId, options);
  }

  /** @internal */
  async fetch(cloudServiceId: string, options?: RequestOptions): Promise<CloudService> {
    return asEntity(CloudServiceSchema, await this.rpc.call((c, o) => c.get({ cloudServiceId }, o), options));
  }
  /** @internal */
  async remove(cloudServiceId: string, options?: RequestOptions): Promise<void> {
    await this.rpc.call((c, o) => c.delete({ cloudServiceId }, o), options);
  }
  /** @internal */
  async patch(cloudServiceId: string, changes: CloudServiceChanges, options?: RequestOptions): Promise<CloudService> {
    return asEntity(CloudServiceSchema, await this.rpc.call((c, o) => c.update({ ...changes, cloudServiceId }, o), options));
  }
  private handle(x: CloudService): CloudServiceHandle {
    return new CloudServiceHandle(x.cloudServiceId, x, this);
  }
}

/** Cloud service types (the kinds of resources, e.g. `Nutanix / Compute / VirtualMachine`). */
export class CloudServiceTypes {
  constructor(private readonly rpc: ServiceCaller<typeof CloudServiceTypeService>) {}

  async create(input: MessageInitShape<typeof CloudServiceTypeServiceCreateRequestSchema>, options?: RequestOptions): Promise<Handle<CloudServiceType>> {
    return this.handle(asEntity(CloudServiceTypeSchema, await this.rpc.call((c, o) => c.create(input, o), options)));
  }
  /** By id, or by `{ key, provider }`. */
  async get(id: string | { key: string; provider: string }, options?: RequestOptions): Promise<Handle<CloudServiceType>> {
    const input = typeof id === "string" ? { cloudServiceTypeId: id } : id;
    return this.handle(asEntity(CloudServiceTypeSchema, await this.rpc.call((c, o) => c.get(input, o), options)));
  }
  list(query?: ListQuery, options?: RequestOptions): Pager<Handle<CloudServiceType>> {
    return new Pager(async (q, o) => {
      const r = await this.rpc.call((c, co) => c.list({ query: q }, co), o);
      return { items: r.results.map((x) => this.handle(x)), totalCount: r.totalCount };
    }, query, options);
  }
  async delete(cloudServiceTypeId: string, options?: RequestOptions): Promise<void> {
    await this.remove(cloudServiceTypeId, options);
  }

  /** @internal */
  async fetch(cloudServiceTypeId: string, options?: RequestOptions): Promise<CloudServiceType> {
    return asEntity(CloudServiceTypeSchema, await this.rpc.call((c, o) => c.get({ cloudServiceTypeId }, o), options));
  }
  /** @internal */
  async remove(cloudServiceTypeId: string, options?: RequestOptions): Promise<void> {
    await this.rpc.call((c, o) => c.delete({ cloudServiceTypeId }, o), options);
  }
  private handle(x: CloudServiceType): Handle<CloudServiceType> {
    return new Handle(x.cloudServiceTypeId, x, this);
  }
}
