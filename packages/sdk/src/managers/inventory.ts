import type { MessageInitShape } from "@bufbuild/protobuf";
import {
  CollectorSchema,
  CollectorService,
  type Collector,
  type CollectorServiceCollectRequestSchema,
  type CollectorServiceCreateRequestSchema,
  type CollectorServiceUpdateRequestSchema,
  type CollectorServiceVerifyResponse,
  type ScheduleFire,
} from "@cloudforet/proto/cloudforet/inventory/v1/collector_pb";
import {
  Job_Status,
  JobSchema,
  JobService,
  type Job,
  type JobServiceCreateRequestSchema,
  type JobServiceWatchResponse,
} from "@cloudforet/proto/cloudforet/inventory/v1/job_pb";
import {
  JobTaskSchema,
  JobTaskService,
  type JobTask,
  type JobTaskServiceCompleteRequestSchema,
  type JobTaskServiceCreateRequestSchema,
  type JobTaskServiceUpdateProgressRequestSchema,
} from "@cloudforet/proto/cloudforet/inventory/v1/job_task_pb";
import { Handle } from "../handle";
import { asEntity, Pager, type ListQuery } from "../pager";
import type { RequestOptions, ServiceCaller } from "../rpc";

type Callers = {
  collectors: ServiceCaller<typeof CollectorService>;
  jobs: ServiceCaller<typeof JobService>;
  jobTasks: ServiceCaller<typeof JobTaskService>;
};

/** The inventory service: collectors, their jobs and the jobs' tasks. */
export class InventoryManagers {
  readonly collectors: Collectors;
  readonly jobs: Jobs;
  readonly jobTasks: JobTasks;

  constructor(callers: Callers) {
    this.jobs = new Jobs(callers.jobs);
    this.jobTasks = new JobTasks(callers.jobTasks);
    this.collectors = new Collectors(callers.collectors, this.jobs);
  }
}

// ── Collectors ────────────────────────────────────────────────────────────────

type CollectorChanges = Omit<MessageInitShape<typeof CollectorServiceUpdateRequestSchema>, "collectorId" | "$typeName">;
type CollectInput = Omit<MessageInitShape<typeof CollectorServiceCollectRequestSchema>, "collectorId" | "$typeName">;

export class CollectorHandle extends Handle<Collector> {
  private get collectors(): Collectors {
    return this.ops as Collectors;
  }
  async update(changes: CollectorChanges, options?: RequestOptions): Promise<this> {
    this.data = await this.collectors.patch(this.id, changes, options);
    return this;
  }
  /** Asks the plugin to check a service account's credentials. */
  verify(serviceAccountId: string, options?: RequestOptions): Promise<CollectorServiceVerifyResponse> {
    return this.collectors.verify(this.id, serviceAccountId, options);
  }
  /** Starts a collection; returns its job. */
  collect(input: CollectInput = {}, options?: RequestOptions): Promise<JobHandle> {
    return this.collectors.collect(this.id, input, options);
  }
  /** Turns the collector's schedule on (it then runs under the workspace's service identity). */
  async enableSchedule(options?: RequestOptions): Promise<this> {
    this.data = await this.collectors.setSchedule(this.id, true, options);
    return this;
  }
  /** Turns the collector's schedule off (it is kept). */
  async disableSchedule(options?: RequestOptions): Promise<this> {
    this.data = await this.collectors.setSchedule(this.id, false, options);
    return this;
  }
}

export class Collectors {
  constructor(
    private readonly rpc: ServiceCaller<typeof CollectorService>,
    private readonly jobs: Jobs,
  ) {}

  async create(input: MessageInitShape<typeof CollectorServiceCreateRequestSchema>, options?: RequestOptions): Promise<CollectorHandle> {
    return this.handle(asEntity(CollectorSchema, await this.rpc.call((c, o) => c.create(input, o), options)));
  }
  async get(collectorId: string, options?: RequestOptions): Promise<CollectorHandle> {
    return this.handle(await this.fetch(collectorId, options));
  }
  list(query?: ListQuery, options?: RequestOptions): Pager<CollectorHandle> {
    return new Pager(async (q, o) => {
      const r = await this.rpc.call((c, co) => c.list({ query: q }, co), o);
      return { items: r.results.map((x) => this.handle(x)), totalCount: r.totalCount };
    }, query, options);
  }
  async update(collectorId: string, changes: CollectorChanges, options?: RequestOptions): Promise<CollectorHandle> {
    return this.handle(await this.patch(collectorId, changes, options));
  }
  async delete(collectorId: string, options?: RequestOptions): Promise<void> {
    await this.remove(collectorId, options);
  }
  verify(collectorId: string, serviceAccountId: string, options?: RequestOptions): Promise<CollectorServiceVerifyResponse> {
    return this.rpc.call((c, o) => c.verify({ collectorId, serviceAccountId }, o), options);
  }
  async collect(collectorId: string, input: CollectInput = {}, options?: RequestOptions): Promise<JobHandle> {
    const r = await this.rpc.call((c, o) => c.collect({ ...input, collectorId }, o), options);
    return this.jobs.handleOf(asEntity(JobSchema, r));
  }
  async enableSchedule(collectorId: string, options?: RequestOptions): Promise<CollectorHandle> {
    return this.handle(await this.setSchedule(collectorId, true, options));
  }
  async disableSchedule(collectorId: string, options?: RequestOptions): Promise<CollectorHandle> {
    return this.handle(await this.setSchedule(collectorId, false, options));
  }
  /** What schedules did: one fire per due time (STARTED with its job, SKIPPED or FAILED with the reason). */
  scheduleFires(query?: ListQuery, options?: RequestOptions): Pager<ScheduleFire> {
    return new Pager(async (q, o) => {
      const r = await this.rpc.call((c, co) => c.listScheduleFires({ query: q }, co), o);
      return { items: r.results, totalCount: r.totalCount };
    }, query, options);
  }

  /** @internal */
  async setSchedule(collectorId: string, enabled: boolean, options?: RequestOptions): Promise<Collector> {
    const r = enabled
      ? await this.rpc.call((c, o) => c.enableSchedule({ collectorId }, o), options)
      : await this.rpc.call((c, o) => c.disableSchedule({ collectorId }, o), options);
    if (!r.collector) throw new Error("the server returned no collector");
    return r.collector;
  }

  /** @internal */
  async fetch(collectorId: string, options?: RequestOptions): Promise<Collector> {
    return asEntity(CollectorSchema, await this.rpc.call((c, o) => c.get({ collectorId }, o), options));
  }
  /** @internal */
  async remove(collectorId: string, options?: RequestOptions): Promise<void> {
    await this.rpc.call((c, o) => c.delete({ collectorId }, o), options);
  }
  /** @internal */
  async patch(collectorId: string, changes: CollectorChanges, options?: RequestOptions): Promise<Collector> {
    return asEntity(CollectorSchema, await this.rpc.call((c, o) => c.update({ ...changes, collectorId }, o), options));
  }
  private handle(x: Collector): CollectorHandle {
    return new CollectorHandle(x.collectorId, x, this);
  }
}

// ── Jobs ──────────────────────────────────────────────────────────────────────

const FINAL_JOB_STATUSES = new Set([Job_Status.FINISHED, Job_Status.FAILURE, Job_Status.CANCELED, Job_Status.TIMEOUT]);

/** Whether a job has ended (finished, failed, canceled or timed out). */
export function isFinalJobStatus(status: Job_Status): boolean {
  return FINAL_JOB_STATUSES.has(status);
}

export class JobHandle extends Handle<Job> {
  private get jobs(): Jobs {
    return this.ops as Jobs;
  }
  /** Cancels the job (stops its tasks). */
  async cancel(options?: RequestOptions): Promise<this> {
    this.data = await this.jobs.cancelJob(this.id, options);
    return this;
  }
  /**
   * The job's changes as they happen: a snapshot first, then every job and task update, ending
   * when the job does. `data` follows along. Breaking out of the loop cancels the server call.
   */
  async *watch(options?: RequestOptions): AsyncGenerator<JobServiceWatchResponse> {
    for await (const event of this.jobs.watch(this.id, options)) {
      if (event.job) this.data = event.job;
      yield event;
    }
  }
  /** Waits for the job to end (by watching it); returns the final job. */
  async wait(options?: RequestOptions): Promise<Job> {
    for await (const _ of this.watch(options)) {
      // `data` follows the stream.
    }
    return this.data;
  }
  /** Whether the job has ended, as of `data`. */
  get done(): boolean {
    return isFinalJobStatus(this.data.status);
  }
}

export class Jobs {
  constructor(private readonly rpc: ServiceCaller<typeof JobService>) {}

  /** Creates a job (a push collector's run; pull collections start through `collectors.collect`). */
  async create(input: MessageInitShape<typeof JobServiceCreateRequestSchema>, options?: RequestOptions): Promise<JobHandle> {
    return this.handleOf(asEntity(JobSchema, await this.rpc.call((c, o) => c.create(input, o), options)));
  }
  async get(jobId: string, options?: RequestOptions): Promise<JobHandle> {
    return this.handleOf(await this.fetch(jobId, options));
  }
  list(query?: ListQuery, options?: RequestOptions): Pager<JobHandle> {
    return new Pager(async (q, o) => {
      const r = await this.rpc.call((c, co) => c.list({ query: q }, co), o);
      return { items: r.results.map((x) => this.handleOf(x)), totalCount: r.totalCount };
    }, query, options);
  }
  async cancel(jobId: string, options?: RequestOptions): Promise<JobHandle> {
    return this.handleOf(await this.cancelJob(jobId, options));
  }
  /** The job's changes as a stream; leaving the loop cancels the call on the server. */
  watch(jobId: string, options?: RequestOptions): AsyncIterable<JobServiceWatchResponse> {
    return this.rpc.stream((c, o) => c.watch({ jobId }, o), options);
  }

  /** @internal */
  async fetch(jobId: string, options?: RequestOptions): Promise<Job> {
    return asEntity(JobSchema, await this.rpc.call((c, o) => c.get({ jobId }, o), options));
  }
  /** @internal */
  async cancelJob(jobId: string, options?: RequestOptions): Promise<Job> {
    return asEntity(JobSchema, await this.rpc.call((c, o) => c.cancel({ jobId }, o), options));
  }
  /** @internal */
  handleOf(job: Job): JobHandle {
    return new JobHandle(job.jobId, job, this);
  }
}

// ── Job tasks ─────────────────────────────────────────────────────────────────

type ProgressInput = Omit<MessageInitShape<typeof JobTaskServiceUpdateProgressRequestSchema>, "jobTaskId" | "$typeName">;
type CompleteInput = Omit<MessageInitShape<typeof JobTaskServiceCompleteRequestSchema>, "jobTaskId" | "$typeName">;

export class JobTaskHandle extends Handle<JobTask> {
  private get tasks(): JobTasks {
    return this.ops as JobTasks;
  }
  /** Reports progress (0–100) and optionally the status. */
  async updateProgress(input: ProgressInput, options?: RequestOptions): Promise<this> {
    await this.tasks.updateProgress(this.id, input, options);
    return this.refresh(options);
  }
  /** Completes the task with its final status and counts. */
  async complete(input: CompleteInput, options?: RequestOptions): Promise<this> {
    this.data = await this.tasks.completeTask(this.id, input, options);
    return this;
  }
}

export class JobTasks {
  constructor(private readonly rpc: ServiceCaller<typeof JobTaskService>) {}

  async create(input: MessageInitShape<typeof JobTaskServiceCreateRequestSchema>, options?: RequestOptions): Promise<JobTaskHandle> {
    return this.handle(asEntity(JobTaskSchema, await this.rpc.call((c, o) => c.create(input, o), options)));
  }
  async get(jobTaskId: string, options?: RequestOptions): Promise<JobTaskHandle> {
    return this.handle(await this.fetch(jobTaskId, options));
  }
  list(query?: ListQuery, options?: RequestOptions): Pager<JobTaskHandle> {
    return new Pager(async (q, o) => {
      const r = await this.rpc.call((c, co) => c.list({ query: q }, co), o);
      return { items: r.results.map((x) => this.handle(x)), totalCount: r.totalCount };
    }, query, options);
  }
  async updateProgress(jobTaskId: string, input: ProgressInput, options?: RequestOptions): Promise<void> {
    await this.rpc.call((c, o) => c.updateProgress({ ...input, jobTaskId }, o), options);
  }
  async complete(jobTaskId: string, input: CompleteInput, options?: RequestOptions): Promise<JobTaskHandle> {
    return this.handle(await this.completeTask(jobTaskId, input, options));
  }

  /** @internal */
  async fetch(jobTaskId: string, options?: RequestOptions): Promise<JobTask> {
    return asEntity(JobTaskSchema, await this.rpc.call((c, o) => c.get({ jobTaskId }, o), options));
  }
  /** @internal */
  async completeTask(jobTaskId: string, input: CompleteInput, options?: RequestOptions): Promise<JobTask> {
    return asEntity(JobTaskSchema, await this.rpc.call((c, o) => c.complete({ ...input, jobTaskId }, o), options));
  }
  private handle(x: JobTask): JobTaskHandle {
    return new JobTaskHandle(x.jobTaskId, x, this);
  }
}
