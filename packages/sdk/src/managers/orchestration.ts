// Over 300 lines on purpose: the managers of seed 002's resources (sequences, instances, cron,
// triggers, workers), thin typed wrappers that read best side by side.
import { fromJson, type JsonValue, type MessageInitShape } from "@bufbuild/protobuf";
import { ValueSchema } from "@bufbuild/protobuf/wkt";
import {
  InstanceService,
  TaskInstance_State,
  TaskInstanceSchema,
  type InstanceServiceCreateRequestSchema,
  type InstanceServiceGetOutputsResponse,
  type InstanceServiceListRequestSchema,
  type InstanceServiceWatchRequestSchema,
  type InstanceServiceWatchResponse,
  type TaskInstance,
} from "@cloudforet/proto/cloudforet/orchestration/v1/instance_pb";
import {
  SequenceService,
  type SequenceServiceCreateRequestSchema,
  type SequenceServiceGetByNameRequestSchema,
  type SequenceServiceGetByNameResponse,
  type SequenceServiceGetResponse,
} from "@cloudforet/proto/cloudforet/orchestration/v1/sequence_pb";
import {
  CronScheduleSchema,
  CronService,
  type CronSchedule,
  type CronServiceCreateRequestSchema,
  type CronServiceListRequestSchema,
  type CronServiceUpdateRequestSchema,
} from "@cloudforet/proto/cloudforet/orchestration/v1/cron_pb";
import {
  RecurrentRequestSchema,
  RecurrentRequestService,
  RecurrentRequest_Status,
  type RecurrentRequest,
  type RecurrentRequestServiceCreateRequestSchema,
  type RecurrentRequestServiceListRequestSchema,
  type RecurrentRequestServiceUpdateRequestSchema,
} from "@cloudforet/proto/cloudforet/orchestration/v1/recurrent_request_pb";
import {
  TriggerSchema,
  TriggerService,
  type Trigger,
  type TriggerServiceCreateRequestSchema,
  type TriggerServiceFireRequestSchema,
  type TriggerServiceFireResponse,
  type TriggerServiceListRequestSchema,
  type TriggerServiceUpdateRequestSchema,
} from "@cloudforet/proto/cloudforet/orchestration/v1/trigger_pb";
import { Handle } from "../handle";
import { asEntity, Pager } from "../pager";
import type { RequestOptions, ServiceCaller } from "../rpc";

const FINAL_STATES = new Set([TaskInstance_State.COMPLETED, TaskInstance_State.FAILED, TaskInstance_State.CANCELLED]);

/** Sequences: versioned workflow definitions. */
export class Sequences {
  constructor(private readonly rpc: ServiceCaller<typeof SequenceService>) {}

  /** Creates a sequence; returns its id. */
  async create(input: MessageInitShape<typeof SequenceServiceCreateRequestSchema>, options?: RequestOptions): Promise<string> {
    return (await this.rpc.call((c, o) => c.create(input, o), options)).id;
  }
  get(id: string, options?: RequestOptions): Promise<SequenceServiceGetResponse> {
    return this.rpc.call((c, o) => c.get({ id }, o), options);
  }
  /** The latest version of a sequence by name (or the given `version`). */
  getByName(input: MessageInitShape<typeof SequenceServiceGetByNameRequestSchema>, options?: RequestOptions): Promise<SequenceServiceGetByNameResponse> {
    return this.rpc.call((c, o) => c.getByName(input, o), options);
  }
}

export class InstanceHandle extends Handle<TaskInstance> {
  private get instances(): Instances {
    return this.ops as Instances;
  }
  /** Whether the instance has ended (completed, failed or cancelled), as of `data`. */
  get done(): boolean {
    return FINAL_STATES.has(this.data.state);
  }
  /** State changes of this instance (InstanceService.Watch); breaking out of the loop cancels the server call. */
  watch(options?: RequestOptions): AsyncIterable<InstanceServiceWatchResponse> {
    return this.instances.watch({ ids: [this.id] }, options);
  }
  /**
   * Waits for the instance to end, re-reading it every `intervalMs` (default 200), until
   * `timeoutMs` (default 60 s) or `signal`; returns the final instance.
   */
  async wait(options: RequestOptions & { intervalMs?: number } = {}): Promise<TaskInstance> {
    const deadline = Date.now() + (options.timeoutMs ?? 60_000);
    await this.refresh({ signal: options.signal });
    while (!this.done) {
      if (Date.now() >= deadline) throw new Error(`instance ${this.id} did not end within ${options.timeoutMs ?? 60_000} ms`);
      options.signal?.throwIfAborted();
      await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 200));
      await this.refresh({ signal: options.signal });
    }
    return this.data;
  }
  /** Sends a signal (e.g. an approval) to a waiting instance. */
  async signal(signalType: string, payload?: JsonValue, options?: RequestOptions): Promise<string> {
    return this.instances.signal(this.id, signalType, payload, options);
  }
  outputs(options?: RequestOptions): Promise<InstanceServiceGetOutputsResponse["outputs"]> {
    return this.instances.outputs(this.id, options);
  }
  /** Cancels the instance. */
  async cancel(options?: RequestOptions): Promise<this> {
    this.data = await this.instances.setState(this.id, TaskInstance_State.CANCELLED, options);
    return this;
  }
  /** Runs a failed instance again. */
  async retry(options?: RequestOptions): Promise<this> {
    await this.instances.retry(this.id, options);
    return this.refresh(options);
  }
}

/** Instances: runs of a sequence. */
export class Instances {
  constructor(private readonly rpc: ServiceCaller<typeof InstanceService>) {}

  /** Starts an instance; an `idempotencyKey` in the input dedupes it server-side. */
  async create(input: MessageInitShape<typeof InstanceServiceCreateRequestSchema>, options?: RequestOptions): Promise<InstanceHandle> {
    const { id } = await this.rpc.call((c, o) => c.create(input, o), options);
    return this.get(id, options);
  }
  async get(id: string, options?: RequestOptions): Promise<InstanceHandle> {
    return new InstanceHandle(id, await this.fetch(id, options), this);
  }
  /** Instances by tenant, namespace, sequence and states, paged by themselves. */
  list(filter: Omit<MessageInitShape<typeof InstanceServiceListRequestSchema>, "offset" | "limit" | "$typeName"> = {}, options?: RequestOptions & { pageSize?: number }): Pager<InstanceHandle> {
    return new Pager(
      async (q, o) => {
        const r = await this.rpc.call((c, co) => c.list({ ...filter, offset: q.page?.start ?? 0, limit: q.page?.limit ?? 100 }, co), o);
        return { items: r.results.map((x) => new InstanceHandle(x.id, x, this)), totalCount: r.totalCount };
      },
      { pageSize: options?.pageSize ?? 100 },
      options,
    );
  }
  /** State changes of the matching instances; breaking out of the loop cancels the server call. */
  watch(input: MessageInitShape<typeof InstanceServiceWatchRequestSchema>, options?: RequestOptions): AsyncIterable<InstanceServiceWatchResponse> {
    return this.rpc.stream((c, o) => c.watch(input, o), options);
  }
  async signal(id: string, signalType: string, payload?: JsonValue, options?: RequestOptions): Promise<string> {
    const value = payload === undefined ? undefined : fromJson(ValueSchema, payload);
    return (await this.rpc.call((c, o) => c.sendSignal({ id, signalType, payload: value }, o), options)).signalId;
  }
  async outputs(id: string, options?: RequestOptions): Promise<InstanceServiceGetOutputsResponse["outputs"]> {
    return (await this.rpc.call((c, o) => c.getOutputs({ id }, o), options)).outputs;
  }
  async retry(id: string, options?: RequestOptions): Promise<void> {
    await this.rpc.call((c, o) => c.retry({ id }, o), options);
  }

  /** @internal */
  async fetch(id: string, options?: RequestOptions): Promise<TaskInstance> {
    return asEntity(TaskInstanceSchema, await this.rpc.call((c, o) => c.get({ id }, o), options));
  }
  /** @internal */
  async setState(id: string, state: TaskInstance_State, options?: RequestOptions): Promise<TaskInstance> {
    return asEntity(TaskInstanceSchema, await this.rpc.call((c, o) => c.updateState({ id, state }, o), options));
  }
}

type Init<D extends Parameters<typeof asEntity>[0]> = Omit<MessageInitShape<D>, "$typeName">;
type ListFilter<D extends Parameters<typeof asEntity>[0]> = Omit<Init<D>, "offset" | "limit">;

/** A pager over an offset/limit list of this package (`results`, `total_count`). */
function offsetPager<T, R>(
  fetch: (page: { offset: number; limit: number }, options: RequestOptions) => Promise<{ results: R[]; totalCount: number }>,
  wrap: (x: R) => T,
  options?: RequestOptions & { pageSize?: number },
): Pager<T> {
  return new Pager(
    async (q, o) => {
      const r = await fetch({ offset: q.page?.start ?? 0, limit: q.page?.limit ?? 100 }, o);
      return { items: r.results.map(wrap), totalCount: r.totalCount };
    },
    { pageSize: Math.min(options?.pageSize ?? 100, 1000) },
    options,
  );
}

export class CronScheduleHandle extends Handle<CronSchedule> {
  /** Changes the given fields (next_fire_at is recomputed). */
  async update(input: Omit<Init<typeof CronServiceUpdateRequestSchema>, "id">, options?: RequestOptions): Promise<this> {
    this.data = await (this.ops as CronSchedules).updateRaw(this.id, input, options);
    return this;
  }
  enable(options?: RequestOptions): Promise<this> {
    return this.update({ enabled: true }, options);
  }
  disable(options?: RequestOptions): Promise<this> {
    return this.update({ enabled: false }, options);
  }
}

/** Cron schedules: each fire time creates one instance of the schedule's sequence. */
export class CronSchedules {
  constructor(private readonly rpc: ServiceCaller<typeof CronService>) {}

  async create(input: Init<typeof CronServiceCreateRequestSchema>, options?: RequestOptions): Promise<CronScheduleHandle> {
    const { id } = await this.rpc.call((c, o) => c.create(input, o), options);
    return this.get(id, options);
  }
  async get(id: string, options?: RequestOptions): Promise<CronScheduleHandle> {
    return new CronScheduleHandle(id, await this.fetch(id, options), this);
  }
  /** Schedules by namespace, sequence and enabled, paged by themselves. */
  list(filter: ListFilter<typeof CronServiceListRequestSchema> = {}, options?: RequestOptions & { pageSize?: number }): Pager<CronScheduleHandle> {
    return offsetPager(
      (page, o) => this.rpc.call((c, co) => c.list({ ...filter, ...page }, co), o),
      (x) => new CronScheduleHandle(x.id, x, this),
      options,
    );
  }
  async update(id: string, input: Omit<Init<typeof CronServiceUpdateRequestSchema>, "id">, options?: RequestOptions): Promise<CronScheduleHandle> {
    return new CronScheduleHandle(id, await this.updateRaw(id, input, options), this);
  }
  async delete(id: string, options?: RequestOptions): Promise<void> {
    await this.remove(id, options);
  }

  /** @internal */
  async fetch(id: string, options?: RequestOptions): Promise<CronSchedule> {
    return asEntity(CronScheduleSchema, await this.rpc.call((c, o) => c.get({ id }, o), options));
  }
  /** @internal */
  async remove(id: string, options?: RequestOptions): Promise<void> {
    await this.rpc.call((c, o) => c.delete({ id }, o), options);
  }
  /** @internal */
  async updateRaw(id: string, input: Omit<Init<typeof CronServiceUpdateRequestSchema>, "id">, options?: RequestOptions): Promise<CronSchedule> {
    return asEntity(CronScheduleSchema, await this.rpc.call((c, o) => c.update({ ...input, id }, o), options));
  }
}

export class TriggerHandle extends Handle<Trigger> {
  /** Spawns an instance of the trigger's sequence with `data` as its context.data. */
  fire(input: Omit<Init<typeof TriggerServiceFireRequestSchema>, "slug"> = {}, options?: RequestOptions): Promise<TriggerServiceFireResponse> {
    return (this.ops as Triggers).fire(this.id, input, options);
  }
  async update(input: Omit<Init<typeof TriggerServiceUpdateRequestSchema>, "slug">, options?: RequestOptions): Promise<this> {
    this.data = await (this.ops as Triggers).updateRaw(this.id, input, options);
    return this;
  }
}

/** Event triggers by slug (unique per tenant). */
export class Triggers {
  constructor(private readonly rpc: ServiceCaller<typeof TriggerService>) {}

  async create(input: Init<typeof TriggerServiceCreateRequestSchema>, options?: RequestOptions): Promise<TriggerHandle> {
    return this.handle(asEntity(TriggerSchema, await this.rpc.call((c, o) => c.create(input, o), options)));
  }
  async get(slug: string, options?: RequestOptions): Promise<TriggerHandle> {
    return this.handle(await this.fetch(slug, options));
  }
  /** Triggers by namespace, sequence, type and enabled, by slug, paged by themselves. */
  list(filter: ListFilter<typeof TriggerServiceListRequestSchema> = {}, options?: RequestOptions & { pageSize?: number }): Pager<TriggerHandle> {
    return offsetPager(
      (page, o) => this.rpc.call((c, co) => c.list({ ...filter, ...page }, co), o),
      (x) => this.handle(x),
      options,
    );
  }
  async update(slug: string, input: Omit<Init<typeof TriggerServiceUpdateRequestSchema>, "slug">, options?: RequestOptions): Promise<TriggerHandle> {
    return this.handle(await this.updateRaw(slug, input, options));
  }
  async delete(slug: string, options?: RequestOptions): Promise<void> {
    await this.remove(slug, options);
  }
  /** Fires a trigger by slug (as emit_event does); `dedupeKey` makes repeats return the first instance. */
  fire(slug: string, input: Omit<Init<typeof TriggerServiceFireRequestSchema>, "slug"> = {}, options?: RequestOptions): Promise<TriggerServiceFireResponse> {
    return this.rpc.call((c, o) => c.fire({ ...input, slug }, o), options);
  }

  /** @internal */
  async fetch(slug: string, options?: RequestOptions): Promise<Trigger> {
    return asEntity(TriggerSchema, await this.rpc.call((c, o) => c.get({ slug }, o), options));
  }
  /** @internal */
  async remove(slug: string, options?: RequestOptions): Promise<void> {
    await this.rpc.call((c, o) => c.delete({ slug }, o), options);
  }
  /** @internal */
  async updateRaw(slug: string, input: Omit<Init<typeof TriggerServiceUpdateRequestSchema>, "slug">, options?: RequestOptions): Promise<Trigger> {
    return asEntity(TriggerSchema, await this.rpc.call((c, o) => c.update({ ...input, slug }, o), options));
  }
  private handle(x: Trigger): TriggerHandle {
    return new TriggerHandle(x.slug, x, this);
  }
}

export class RecurrentRequestHandle extends Handle<RecurrentRequest> {
  private get requests(): RecurrentRequests {
    return this.ops as RecurrentRequests;
  }
  async update(input: Omit<Init<typeof RecurrentRequestServiceUpdateRequestSchema>, "id">, options?: RequestOptions): Promise<this> {
    this.data = await this.requests.updateRaw(this.id, input, options);
    return this;
  }
  pause(options?: RequestOptions): Promise<this> {
    return this.update({ status: RecurrentRequest_Status.PAUSED }, options);
  }
  resume(options?: RequestOptions): Promise<this> {
    return this.update({ status: RecurrentRequest_Status.ACTIVE }, options);
  }
  /** Fires now; returns the instance of this run. */
  async trigger(options?: RequestOptions): Promise<InstanceHandle> {
    return this.requests.trigger(this.id, options);
  }
}

/**
 * Recurrent requests: a call to a URL or a platform RPC at an interval or cron schedule (seed 001's
 * RecurrentRequests). Each run is an orchestration instance (`trigger()` returns its handle).
 */
export class RecurrentRequests {
  constructor(
    private readonly rpc: ServiceCaller<typeof RecurrentRequestService>,
    private readonly instances: Instances,
  ) {}

  async create(input: Init<typeof RecurrentRequestServiceCreateRequestSchema>, options?: RequestOptions): Promise<RecurrentRequestHandle> {
    return this.handle(asEntity(RecurrentRequestSchema, await this.rpc.call((c, o) => c.create(input, o), options)));
  }
  async get(id: string, options?: RequestOptions): Promise<RecurrentRequestHandle> {
    return this.handle(await this.fetch(id, options));
  }
  /** Recurrent requests by status and name, oldest first, paged by themselves. */
  list(filter: ListFilter<typeof RecurrentRequestServiceListRequestSchema> = {}, options?: RequestOptions & { pageSize?: number }): Pager<RecurrentRequestHandle> {
    return offsetPager(
      (page, o) => this.rpc.call((c, co) => c.list({ ...filter, ...page }, co), o),
      (x) => this.handle(x),
      options,
    );
  }
  async update(id: string, input: Omit<Init<typeof RecurrentRequestServiceUpdateRequestSchema>, "id">, options?: RequestOptions): Promise<RecurrentRequestHandle> {
    return this.handle(await this.updateRaw(id, input, options));
  }
  /** Fires now (also when paused); returns the instance of this run. */
  async trigger(id: string, options?: RequestOptions): Promise<InstanceHandle> {
    const { instanceId } = await this.rpc.call((c, o) => c.trigger({ id }, o), options);
    return this.instances.get(instanceId, options);
  }
  async delete(id: string, options?: RequestOptions): Promise<void> {
    await this.remove(id, options);
  }

  /** @internal */
  async fetch(id: string, options?: RequestOptions): Promise<RecurrentRequest> {
    return asEntity(RecurrentRequestSchema, await this.rpc.call((c, o) => c.get({ id }, o), options));
  }
  /** @internal */
  async remove(id: string, options?: RequestOptions): Promise<void> {
    await this.rpc.call((c, o) => c.delete({ id }, o), options);
  }
  /** @internal */
  async updateRaw(id: string, input: Omit<Init<typeof RecurrentRequestServiceUpdateRequestSchema>, "id">, options?: RequestOptions): Promise<RecurrentRequest> {
    return asEntity(RecurrentRequestSchema, await this.rpc.call((c, o) => c.update({ ...input, id }, o), options));
  }
  private handle(x: RecurrentRequest): RecurrentRequestHandle {
    return new RecurrentRequestHandle(x.id, x, this);
  }
}
