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
