import type { JsonObject } from "@bufbuild/protobuf";
import { CollectorCollectResponse_State } from "@cloudforet/proto/cloudforet/inventory/plugin/v1/collector_pb";
import { ClientError } from "@cloudforet/resilience";
import { invalidParameter, PlatformError } from "@cloudforet/errors";
import type { Logger } from "pino";
import type { CollectorRow, JobRow, JobTaskRow } from "../db/schema";
import type { IdentityDirectory } from "../identity/identity-directory";
import type { JobStore } from "../jobs/job-store";
import { isFinal } from "../jobs/status";
import { CLOUD_SERVICE, CLOUD_SERVICE_TYPE, describeItem, ItemRejected, toUpsertItem } from "./collected-item";
import type { PluginClients } from "./plugin-clients";
import { ProgressEstimate } from "./progress-estimate";
import type { ResourceSink, UpsertItem } from "./resource-sink";

export interface PullCollectionOptions {
  store: JobStore;
  identity: IdentityDirectory;
  plugins: PluginClients;
  sink: ResourceSink;
  logger: Logger;
  /** Tasks of one job collected at the same time. */
  concurrency: number;
}

/** Items per BatchUpsert when the job's options give no batch_size. */
export const DEFAULT_BATCH_SIZE = 500;
const MAX_BATCH_SIZE = 1000;

class Stopped extends Error {}

interface RunningJob {
  controller: AbortController;
  done: Promise<void>;
}

/**
 * Pull mode: for each task of a job, streams the plugin's Collect, upserts what it yields into
 * cloud-service in batches, reports progress and counters after every batch, records per-item
 * errors, and completes the task FINISHED (or FAILURE with the plugin's error). Runs in the
 * background of the replica that started the job; a cancel or timeout stops its streams.
 */
export class PullCollection {
  private readonly running = new Map<string, RunningJob>();

  constructor(private readonly options: PullCollectionOptions) {}

  start(job: JobRow, collector: CollectorRow, tasks: JobTaskRow[], authorization: string | null): void {
    const controller = new AbortController();
    const done = this.runJob(job, collector, tasks, authorization, controller.signal)
      .catch((err) => this.options.logger.error({ err, job_id: job.jobId }, "pull collection failed"))
      .finally(() => this.running.delete(job.jobId));
    this.running.set(job.jobId, { controller, done });
  }

  /** Stops a job's streams (it was canceled or timed out). */
  stop(jobId: string): void {
    this.running.get(jobId)?.controller.abort(new Stopped("the job ended"));
  }

  isRunning(jobId: string): boolean {
    return this.running.has(jobId);
  }

  async close(): Promise<void> {
    for (const job of this.running.values()) job.controller.abort(new Stopped("shutting down"));
    await Promise.all([...this.running.values()].map((job) => job.done));
  }

  private async runJob(job: JobRow, collector: CollectorRow, tasks: JobTaskRow[], authorization: string | null, signal: AbortSignal): Promise<void> {
    const queue = [...tasks];
    const worker = async () => {
      for (let task = queue.shift(); task && !signal.aborted; task = queue.shift()) {
        await this.runTask(job, collector, task, authorization, signal);
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, Math.min(this.options.concurrency, tasks.length)) }, worker));
  }

  private async runTask(job: JobRow, collector: CollectorRow, task: JobTaskRow, authorization: string | null, signal: AbortSignal): Promise<void> {
    const { store, identity, plugins, sink, logger } = this.options;
    const scope = { domainId: task.domainId };
    const log = logger.child({ job_id: job.jobId, job_task_id: task.jobTaskId, service_account_id: task.serviceAccountId });
    const counts = { createdCount: 0, updatedCount: 0, errorCount: 0 };
    let newErrors: string[] = [];
    let seen = 0;
    let batch: UpsertItem[] = [];
    const recordError = (message: string) => {
      counts.errorCount += 1;
      newErrors.push(message);
      if (newErrors.length > 200) newErrors = newErrors.slice(-100);
    };
    const batchSize = batchSizeOf(job.options);
    const progress = new ProgressEstimate(await store.previousCollectionSize(task.domainId, task.collectorId, task.serviceAccountId));

    const report = async () => {
      const updated = await store.reportPull(scope, task.jobTaskId, { progress: progress.after(seen), ...counts, newErrors });
      newErrors = [];
      if (isFinal(updated.status)) throw new Stopped(`the task is ${updated.status}`);
    };
    // One batch is written while the next is read from the plugin: the stream and the writes overlap.
    let writing: Promise<void> | undefined;
    const write = async (items: UpsertItem[]) => {
      const result = await sink.upsert(items, authorization, signal);
      counts.createdCount += result.createdCount;
      counts.updatedCount += result.updatedCount;
      for (const error of result.errors) recordError(`resource ${error.resourceId || `#${error.index}`}: ${error.message}`);
      // Failures beyond the listed ones still count.
      counts.errorCount += result.failedCount - result.errors.length;
      await report();
    };
    const flush = async () => {
      await writing;
      writing = undefined;
      if (batch.length === 0) return;
      const items = batch;
      batch = [];
      writing = write(items);
      // Failures surface at the next flush; until then nobody awaits this promise.
      writing.catch(() => {});
    };
    const drain = async () => {
      await flush();
      await writing;
      writing = undefined;
    };

    try {
      await report();
      const account = await identity.serviceAccount(task.serviceAccountId, authorization);
      if (!account) throw invalidParameter("Service account not found or not accessible", { service_account_id: task.serviceAccountId });
      const secretId = task.secretId || account.secretId;
      const secretData = secretId ? await identity.secretData(secretId, authorization) : {};
      const timeoutMs = Math.max(1000, job.timeoutAt.getTime() - Date.now());
      const stream = plugins.for(collector.pluginEndpoint).collect(
        {
          options: collector.pluginOptions,
          secretData,
          taskOptions: {
            ...job.options,
            service_account_id: task.serviceAccountId,
            job_id: job.jobId,
            job_task_id: task.jobTaskId,
            service_account_data: account.data,
          },
        },
        { signal, timeoutMs },
      );
      const provenance = {
        collectorId: collector.collectorId,
        jobTaskId: task.jobTaskId,
        serviceAccountId: task.serviceAccountId,
        provider: collector.provider,
        workspaceId: collector.workspaceId,
      };
      for await (const message of stream) {
        seen += 1;
        if (message.state === CollectorCollectResponse_State.FAILURE) {
          recordError(`${describeItem(message.resource)}: ${message.message || "the plugin could not collect it"}`);
        } else {
          const type = message.resourceType || CLOUD_SERVICE;
          try {
            if (type === CLOUD_SERVICE) batch.push(toUpsertItem(message.resource ?? {}, message.matchRules, provenance));
            else if (type === CLOUD_SERVICE_TYPE) await sink.ensureType(message.resource ?? {}, authorization);
            else recordError(`${describeItem(message.resource)}: unsupported resource_type ${type.slice(0, 64)}`);
          } catch (err) {
            if (!(err instanceof ItemRejected) && !(err instanceof ClientError)) throw err;
            recordError(`${describeItem(message.resource)}: ${err.message}`);
          }
        }
        if (batch.length >= batchSize) await flush();
      }
      await drain();
      await store.completeTask(scope, task.jobTaskId, { status: "FINISHED", ...counts, deletedCount: 0, disconnectedCount: 0, finishedAt: new Date(), errors: newErrors });
      log.info({ ...counts, seen }, "collection finished");
    } catch (err) {
      if (err instanceof Stopped || signal.aborted) {
        log.info("collection stopped: the job ended");
        return;
      }
      // What the plugin yielded before it failed is still written.
      await drain().catch((flushErr) => log.warn({ err: flushErr }, "could not write the last batch"));
      const reason = failureReason(err);
      log.warn({ err, ...counts }, "collection failed");
      await store
        .completeTask(scope, task.jobTaskId, { status: "FAILURE", ...counts, deletedCount: 0, disconnectedCount: 0, finishedAt: new Date(), errors: [...newErrors, reason] })
        .catch((completeErr) => log.error({ err: completeErr }, "could not record the failed collection"));
    }
  }
}

function batchSizeOf(options: JsonObject): number {
  const size = options.batch_size;
  return typeof size === "number" && Number.isInteger(size) && size > 0 ? Math.min(size, MAX_BATCH_SIZE) : DEFAULT_BATCH_SIZE;
}

/** The line a failed task records: the error code and message, as the plugin or peer sent them. */
function failureReason(err: unknown): string {
  if (err instanceof PlatformError) return `${err.code}: ${err.message}`;
  const failure = ClientError.from(err);
  return `${failure.errorCode}: ${failure.message}`;
}
