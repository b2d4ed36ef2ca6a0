import { create, toBinary, type JsonObject } from "@bufbuild/protobuf";
import { CloudServiceServiceUpsertRequestSchema } from "@cloudforet/proto/cloudforet/cloud_service/v1/cloud_service_pb";
import { CollectorCollectResponse_State } from "@cloudforet/proto/cloudforet/inventory/plugin/v1/collector_pb";
import { ClientError } from "@cloudforet/resilience";
import { ErrorCode, invalidParameter, PlatformError } from "@cloudforet/errors";
import { LeaseLostError } from "../job-tasks/job-tasks";
import { isFinal } from "../jobs/status";
import { CLOUD_SERVICE, CLOUD_SERVICE_TYPE, describeItem, ItemRejected, toUpsertItem } from "./collected-item";
import { ProgressEstimate } from "./progress-estimate";
import type { ClaimedTask } from "./pull-leases";
import { readResourceInfo } from "./raw-collector";
import type { ResourceSink, UpsertItem } from "./resource-sink";
import type { Logger } from "pino";
import type { IdentityDirectory } from "../identity-directory";
import type { JobTasks } from "../job-tasks/job-tasks";
import type { CollectionCredentials } from "./collection-credentials";
import type { PluginClients } from "./plugin-clients";
import type { PluginRouter } from "../plugins/plugin-router";

/** What collecting a task needs (PullCollectionOptions adds the claim loop's settings). */
export interface CollectTaskDeps {
  tasks: JobTasks;
  credentials: CollectionCredentials;
  identity: IdentityDirectory;
  plugins: PluginClients;
  /** Resolves a collector's registry plugin (version or alias) to endpoints at each task, with failover. */
  pluginRouter: PluginRouter;
  sink: ResourceSink;
  logger: Logger;
  /** This replica's name on its leases. */
  replicaId: string;
  /** INVENTORY_UPSERT_MAX_MESSAGE_BYTES: the largest BatchUpsert message (cloud-service's request limit). Default 4 MiB. */
  upsertMaxMessageBytes?: number;
}

/** Items per BatchUpsert when the job's options give no batch_size. */
export const DEFAULT_BATCH_SIZE = 500;
const MAX_BATCH_SIZE = 1000;
/** Bytes a BatchUpsert message adds around each item (field tag and length prefix), rounded up. */
const ITEM_FRAMING_BYTES = 16;

/** Why a task stopped before its end: its job ended, this replica shuts down, or another replica took it over. */
export type StopReason = "ended" | "handed back" | "lease lost";

export class Stopped extends Error {
  constructor(readonly reason: StopReason) {
    super(`collection stopped: ${reason}`);
  }
}

/** One BatchUpsert's worth of plugin items, with the item errors read alongside them. */
interface Cut {
  items: UpsertItem[];
  /** Plugin items read up to the end of this cut: the checkpoint once it is written. */
  upTo: number;
  errorCount: number;
  errorLines: string[];
}

/**
 * One pull task's collection, start to end, by the replica holding its lease: streams the plugin's
 * Collect, upserts what it yields into cloud-service in batches (one written while the next is read),
 * checkpoints counters after each batch and completes the task. PullCollection runs it and stops it.
 */
export async function collectTask(
  options: CollectTaskDeps,
  claimed: ClaimedTask,
  streamSignal: AbortSignal,
  writeSignal: AbortSignal,
  stopReason: () => StopReason | undefined,
): Promise<void> {
  const { tasks, identity, plugins, pluginRouter, sink, logger, credentials, replicaId: leaseOwner } = options;
  const { task, job, collector } = claimed;
  const scope = { domainId: task.domainId };
  const log = logger.child({ job_id: job.jobId, job_task_id: task.jobTaskId, service_account_id: task.serviceAccountId });
  // Counters as of the checkpoint; items past it are counted as they are written, once.
  const committed = { createdCount: task.createdCount, updatedCount: task.updatedCount, errorCount: task.errorCount };
  const resumeAt = task.checkpoint;
  let written = resumeAt;
  let seen = 0;
  let batch: UpsertItem[] = [];
  let batchBytes = 0;
  // An item is checked against this before it is forwarded, so cloud-service never sees a message
  // it would refuse (a refusal there failed the whole batch and, worse, could poison the connection).
  const upsertMaxBytes = options.upsertMaxMessageBytes ?? 4 * 1024 * 1024;
  const itemMaxBytes = upsertMaxBytes - ITEM_FRAMING_BYTES;
  let pending = { errorCount: 0, lines: [] as string[] };
  const recordError = (message: string) => {
    pending.errorCount += 1;
    pending.lines.push(message);
    if (pending.lines.length > 200) pending.lines = pending.lines.slice(-100);
  };
  const batchSize = batchSizeOf(job.options);
  const progress = new ProgressEstimate(await tasks.previousCollectionSize(task.domainId, task.collectorId, task.serviceAccountId));

  const report = async (checkpoint: number, counts: typeof committed, newErrors: string[]) => {
    const updated = await tasks.reportPull(scope, task.jobTaskId, { leaseOwner, checkpoint, progress: progress.after(checkpoint), ...counts, newErrors });
    if (isFinal(updated.status)) throw new Stopped("ended");
  };
  let authorization: string | null = null;
  // Writes go one at a time, in order, so each checkpoint covers every item before it.
  const write = async (cut: Cut) => {
    const counts = { ...committed, errorCount: committed.errorCount + cut.errorCount };
    const lines = [...cut.errorLines];
    if (cut.items.length > 0) {
      // A service identity's token is re-minted before it expires: a long collection outlives any one token.
      authorization = await credentials.open(job.sealedAuthorization, job.jobId);
      const result = await sink.upsert(cut.items, authorization, writeSignal, { domainId: task.domainId, jobId: job.jobId });
      counts.createdCount += result.createdCount;
      counts.updatedCount += result.updatedCount;
      for (const error of result.errors) lines.push(`resource ${error.resourceId || `#${error.index}`}: ${error.message}`);
      // Failures beyond the listed ones still count.
      counts.errorCount += result.failedCount;
    }
    await report(cut.upTo, counts, lines.slice(-100));
    Object.assign(committed, counts);
    written = cut.upTo;
  };
  const cut = (): Cut => {
    const next = { items: batch, upTo: seen, errorCount: pending.errorCount, errorLines: pending.lines };
    batch = [];
    batchBytes = 0;
    pending = { errorCount: 0, lines: [] };
    return next;
  };
  // One batch is written while the next is read from the plugin: the stream and the writes overlap.
  let writing: Promise<void> | undefined;
  const flush = async () => {
    await writing;
    writing = undefined;
    if (batch.length === 0) return;
    writing = write(cut());
    // Failures surface at the next flush; until then nobody awaits this promise.
    writing.catch(() => {});
  };
  const drain = async () => {
    await writing;
    writing = undefined;
    if (batch.length > 0 || pending.errorCount > 0 || seen > written) await write(cut());
  };

  try {
    if (!collector) throw invalidParameter("The collector was deleted while its job ran", { collector_id: task.collectorId });
    authorization = await credentials.open(job.sealedAuthorization, job.jobId);
    await report(resumeAt, committed, []);
    const account = await identity.serviceAccount(task.serviceAccountId, authorization);
    if (!account) throw invalidParameter("Service account not found or not accessible", { service_account_id: task.serviceAccountId });
    const secretId = task.secretId || account.secretId;
    const secretData = secretId ? await identity.secretData(secretId, authorization) : {};
    const timeoutMs = Math.max(1000, job.timeoutAt.getTime() - Date.now());
    const request = {
      options: collector.pluginOptions,
      secretData,
      taskOptions: {
        ...job.options,
        service_account_id: task.serviceAccountId,
        job_id: job.jobId,
        job_task_id: task.jobTaskId,
        service_account_data: account.data,
      },
    };
    // A registry plugin is resolved now: an alias moved since the job started is followed.
    const targets = await pluginRouter.targetsOf(collector);
    if (targets.resolution) log.info({ plugin_id: collector.pluginId, version: targets.resolution.version, endpoint: targets.urls[0] }, "collecting through the plugin registry");
    const stream = pluginRouter.stream(targets, (url) => plugins.for(url).collect(request, { signal: streamSignal, timeoutMs }));
    if (resumeAt > 0) log.info({ checkpoint: resumeAt }, "resuming collection after the checkpoint");
    const provenance = {
      collectorId: collector.collectorId,
      jobTaskId: task.jobTaskId,
      serviceAccountId: task.serviceAccountId,
      provider: collector.provider,
      workspaceId: collector.workspaceId,
    };
    for await (const raw of stream) {
      const stopped = stopReason();
      if (stopped) throw new Stopped(stopped);
      // Items before the checkpoint were written and counted by the task's previous holder.
      if (seen++ < resumeAt) continue;
      // Every item is decoded and checked on its own: a bad one is one item error, the rest are stored.
      let message;
      try {
        message = readResourceInfo(raw);
      } catch (err) {
        if (!(err instanceof ItemRejected)) throw err;
        recordError(`item #${seen - 1}: ${err.message}`);
        continue;
      }
      if (message.state === CollectorCollectResponse_State.FAILURE) {
        recordError(`${describeItem(message.resource)}: ${message.message || "the plugin could not collect it"}`);
      } else {
        const type = message.resourceType || CLOUD_SERVICE;
        try {
          if (type === CLOUD_SERVICE) {
            const item = toUpsertItem(message.resource ?? {}, message.matchRules, provenance);
            const size = toBinary(CloudServiceServiceUpsertRequestSchema, create(CloudServiceServiceUpsertRequestSchema, item)).byteLength;
            if (size > itemMaxBytes) throw new ItemRejected(`resource too large: ${size} bytes > ${itemMaxBytes} limit`);
            // Batches are cut by bytes too, so each BatchUpsert message stays within cloud-service's limit.
            if (batch.length > 0 && batchBytes + size + ITEM_FRAMING_BYTES > upsertMaxBytes) await flush();
            batch.push(item);
            batchBytes += size + ITEM_FRAMING_BYTES;
          } else if (type === CLOUD_SERVICE_TYPE) await sink.ensureType(message.resource ?? {}, authorization);
          else recordError(`${describeItem(message.resource)}: unsupported resource_type ${type.slice(0, 64)}`);
        } catch (err) {
          if (!(err instanceof ItemRejected) && !(err instanceof ClientError)) throw err;
          recordError(`${describeItem(message.resource)}: ${err.message}`);
        }
      }
      if (batch.length >= batchSize) await flush();
    }
    // A stream cut short by a stop may end quietly rather than throw: it is not the end of the collection.
    const stopped = stopReason();
    if (stopped) throw new Stopped(stopped);
    await drain();
    await tasks.completePull(scope, task.jobTaskId, {
      status: "FINISHED",
      ...committed,
      deletedCount: 0,
      disconnectedCount: 0,
      finishedAt: new Date(),
      pull: { leaseOwner, checkpoint: written },
    });
    log.info({ ...committed, seen, resumed_at: resumeAt }, "collection finished");
  } catch (err) {
    const stopped = stopReason() ?? (err instanceof Stopped ? err.reason : err instanceof LeaseLostError ? "lease lost" : undefined);
    if (stopped === "handed back") {
      // The batch being written is checkpointed; what was read after it is read again by the next holder.
      await writing?.catch((writeErr) => log.warn({ err: writeErr }, "could not write the last batch before handing back"));
      log.info({ checkpoint: written }, "collection handed back");
      return;
    }
    if (stopped) {
      log.info({ reason: stopped, checkpoint: written }, "collection stopped");
      return;
    }
    // What the plugin yielded before it failed is still written.
    await drain().catch((flushErr) => log.warn({ err: flushErr }, "could not write the last batch"));
    const reason = failureReason(err);
    log.warn({ err, ...committed }, "collection failed");
    await tasks
      .completePull(scope, task.jobTaskId, {
        status: "FAILURE",
        ...committed,
        deletedCount: 0,
        disconnectedCount: 0,
        finishedAt: new Date(),
        errors: [reason],
        pull: { leaseOwner, checkpoint: written },
      })
      .catch((completeErr) => log.error({ err: completeErr }, "could not record the failed collection"));
  }
}


function batchSizeOf(options: JsonObject): number {
  const size = options.batch_size;
  return typeof size === "number" && Number.isInteger(size) && size > 0 ? Math.min(size, MAX_BATCH_SIZE) : DEFAULT_BATCH_SIZE;
}

/**
 * The line a failed task records: the error code and message, as the plugin or peer sent them
 * (sanitised and truncated where it is stored). A plugin message over INVENTORY_PLUGIN_MAX_MESSAGE_BYTES
 * is said so plainly: Connect refuses it as RESOURCE_EXHAUSTED, which reads like a rate limit.
 */
function failureReason(err: unknown): string {
  if (err instanceof PlatformError) return `${err.code}: ${err.message}`;
  const failure = ClientError.from(err);
  const tooLarge = /message size (\d+) is larger than configured readMaxBytes (\d+)|larger than configured readMaxBytes (\d+)/.exec(failure.message);
  if (tooLarge) {
    const size = tooLarge[1] ? `${tooLarge[1]} bytes` : "more bytes";
    return `${ErrorCode.PAYLOAD_TOO_LARGE}: resource too large: ${size} > ${tooLarge[2] ?? tooLarge[3]} limit (INVENTORY_PLUGIN_MAX_MESSAGE_BYTES); the plugin's stream was stopped there`;
  }
  return `${failure.errorCode}: ${failure.message}`;
}
