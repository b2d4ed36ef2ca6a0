import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { JsonObject } from "@bufbuild/protobuf";
import { CloudServiceService } from "@cloudforet/proto/cloudforet/cloud_service/v1/cloud_service_pb";
import { CostService } from "@cloudforet/proto/cloudforet/cost/v1/cost_pb";
import { AuthService } from "@cloudforet/proto/cloudforet/identity/v1/auth_pb";
import { SecretService } from "@cloudforet/proto/cloudforet/identity/v1/secret_pb";
import { ServiceAccountService } from "@cloudforet/proto/cloudforet/identity/v1/service_account_pb";
import { JobService } from "@cloudforet/proto/cloudforet/inventory/v1/job_pb";
import { JobTask_Status, JobTaskService } from "@cloudforet/proto/cloudforet/inventory/v1/job_task_pb";
import { MetricService } from "@cloudforet/proto/cloudforet/monitoring/v1/metric_pb";
import { Notification_NotificationType, Notification_Severity, NotificationService } from "@cloudforet/proto/cloudforet/notification/v1/notification_pb";
import { ClientError, createServiceClient, ErrorCategory, IDEMPOTENCY_KEY_HEADER, shouldAlert } from "@cloudforet/resilience";
import type { Logger } from "pino";
import { costModelFrom, dailyVmCost } from "./cost-model";
import { mapInventory, readInventory, resourceCount, type PrismInventory } from "./inventory";
import { memoryGb, PROVIDER, vcpuCount, vmToInstance } from "./mapping";
import { connectionFromSecret } from "./prism/connection";
import { PrismClient } from "./prism/prism-client";
import { settingsFrom } from "./settings";

/** Where the platform's services answer. */
export interface PlatformUrls {
  identity: string;
  inventory: string;
  cloudService: string;
  cost: string;
  monitoring: string;
  notification: string;
}

export interface PushConfig {
  urls: PlatformUrls;
  /** The plugin's service account: logs in with an API key used as the password (seed 000). */
  domainId: string;
  userId: string;
  apiKey: string;
  /** A push-only collector (empty plugin endpoint) of the account's workspace. */
  collectorId: string;
  serviceAccountId: string;
  /** Default: the service account's linked secret. */
  secretId?: string;
  /** An existing job to add this account's task to; default: a new job of the collector. */
  jobId?: string;
  /**
   * Collector settings (see settings.ts), plus `batch_size` (upserts per BatchUpsert, default 100),
   * the cost model (cost-model.ts), `data_source_id` for the cost rows, `push_costs` / `push_metrics`
   * (default true) and `notify` (default true).
   */
  options?: JsonObject;
  logger: Logger;
  /** Per platform call, retries included. Default 30 000 ms. */
  timeoutMs?: number;
}

export interface PushResult {
  jobId: string;
  jobTaskId: string;
  /** CANCELED / TIMEOUT when inventory ended the task while it ran (the task is left as inventory set it). */
  status: "FINISHED" | "FAILURE" | "CANCELED" | "TIMEOUT";
  createdCount: number;
  updatedCount: number;
  errorCount: number;
  costCount: number;
  metricCount: number;
  /** Per-item reasons (upsert failures, unmappable entities). */
  errors: string[];
  /** Why the task failed, as `ERROR_CODE: message`. */
  failure?: string;
  notificationId?: string;
}

/**
 * Seed 000's plugin walkthrough in push mode: log in, fetch the secret, create the job task, read
 * Prism, upsert resources in batches with progress, push costs and metrics, complete the task with
 * exact counts and send "Collection Complete: Nutanix Plugin". Every platform call goes through
 * createServiceClient (deadline, retry with backoff for retryable categories, circuit breaker); every
 * Prism call through PrismClient's own retry and breaker. Failures before the task exists are thrown;
 * after, the task is completed as FAILURE with the reason and a failure notification is sent.
 */
export async function runPushCollection(config: PushConfig): Promise<PushResult> {
  const log = config.logger.child({ collector_id: config.collectorId, service_account_id: config.serviceAccountId });
  const options = config.options ?? {};
  const settings = settingsFrom(options);
  const costModel = costModelFrom(options);
  const batchSize = positiveInt(options.batch_size, 100);
  const clientOptions = { logger: log, timeoutMs: config.timeoutMs ?? 30_000 };

  // 1. Authenticate (seed 000 "Authenticate Plugin").
  const auth = createServiceClient(AuthService, config.urls.identity, { ...clientOptions, upstream: "identity" });
  const { token } = await step(log, "login", () => auth.login({ domainId: config.domainId, userId: config.userId, password: config.apiKey }));
  const headers = { authorization: `Bearer ${token}` };
  const withAuth = { ...clientOptions, headers };
  const accounts = createServiceClient(ServiceAccountService, config.urls.identity, { ...withAuth, upstream: "identity" });
  const secrets = createServiceClient(SecretService, config.urls.identity, { ...withAuth, upstream: "identity" });
  const jobs = createServiceClient(JobService, config.urls.inventory, { ...withAuth, upstream: "inventory" });
  const tasks = createServiceClient(JobTaskService, config.urls.inventory, { ...withAuth, upstream: "inventory" });
  const resources = createServiceClient(CloudServiceService, config.urls.cloudService, { ...withAuth, upstream: "cloud-service", timeoutMs: 120_000 });
  const costs = createServiceClient(CostService, config.urls.cost, { ...withAuth, upstream: "cost" });
  const metrics = createServiceClient(MetricService, config.urls.monitoring, { ...withAuth, upstream: "monitoring" });
  const notifications = createServiceClient(NotificationService, config.urls.notification, { ...withAuth, upstream: "notification" });

  // 2. Fetch the secret (seed 000 "Fetch Secret").
  const secretId = config.secretId || (await step(log, "get service account", () => accounts.get({ serviceAccountId: config.serviceAccountId }))).secretId;
  const secret = await step(log, "fetch secret", () => secrets.getData({ secretId, domainId: config.domainId }));
  const connection = connectionFromSecret(secret.data ?? {}, settings.prismUrl);

  // 3. The job and this account's task (seed 000 "Create Job" / "Create JobTask").
  const jobId =
    config.jobId ||
    (await step(log, "create job", () =>
      jobs.create({ collectorId: config.collectorId, name: "Nutanix Collection Job", serviceAccountIds: [config.serviceAccountId], options: { include_resources: [...settings.includeResources], batch_size: batchSize } }),
    )).jobId;
  const task = await step(log, "create job task", () => tasks.create({ jobId, serviceAccountId: config.serviceAccountId, secretId }));
  const taskLog = log.child({ job_id: jobId, job_task_id: task.jobTaskId });
  const result: PushResult = { jobId, jobTaskId: task.jobTaskId, status: "FINISHED", createdCount: 0, updatedCount: 0, errorCount: 0, costCount: 0, metricCount: 0, errors: [] };
  let lastProgress = -1;
  const progress = async (percent: number) => {
    const value = Math.min(99, Math.floor(percent));
    if (value <= lastProgress) return;
    lastProgress = value;
    await tasks.updateProgress({ jobTaskId: task.jobTaskId, status: JobTask_Status.IN_PROGRESS, progress: value });
  };

  const prism = new PrismClient(connection, { ...settings.prism, logger: taskLog });
  try {
    await progress(1);
    // 4. Read Prism: clusters, subnets, VMs (disks come with the VMs).
    const phases = { clusters: 5, subnets: 10, vms: 30 } as const;
    const inventory = await readInventory(prism, settings.includeResources, (phase) => progress(phases[phase]));
    taskLog.info({ clusters: inventory.clusters.length, subnets: inventory.subnets.length, vms: inventory.vms.length, prism_calls: prism.attempts }, "read Prism inventory");

    // 5. Upsert in batches, reporting progress from 30 to 85.
    const total = Math.max(1, resourceCount(inventory, settings.includeResources));
    let batch: Parameters<typeof resources.upsert>[0][] = [];
    let done = 0;
    const flush = async () => {
      if (batch.length === 0) return;
      const items = batch;
      batch = [];
      const answer = await resources.batchUpsert(
        (async function* () {
          yield { items };
        })(),
      );
      result.createdCount += answer.createdCount;
      result.updatedCount += answer.updatedCount;
      result.errorCount += answer.failedCount;
      for (const e of answer.errors) result.errors.push(`${e.resourceId || `item ${done + e.index}`}: ${e.errorCode}: ${e.message}`);
      done += items.length;
      await progress(30 + (55 * done) / total);
    };
    for (const mapped of mapInventory(inventory, settings.includeResources, { prismUrl: connection.baseUrl, account: config.serviceAccountId })) {
      if (!mapped.ok) {
        result.errorCount += 1;
        result.errors.push(mapped.message);
        continue;
      }
      const r = mapped.resource;
      batch.push({
        cloudServiceType: r.cloud_service_type,
        cloudServiceGroup: r.cloud_service_group ?? "",
        cloudServiceName: r.cloud_service_name,
        provider: r.provider ?? PROVIDER,
        account: r.account ?? "",
        data: r.data ?? {},
        tags: r.tags ?? {},
        reference: { resourceId: r.reference?.resource_id ?? "", externalLink: r.reference?.external_link ?? "" },
        collectorId: config.collectorId,
        jobTaskId: task.jobTaskId,
      });
      if (batch.length >= batchSize) await flush();
    }
    await flush();

    // 6. Costs and metrics (their failures are logged, not the task's).
    if (options.push_costs !== false) result.costCount = await pushCosts(costs, inventory, { costModel, dataSourceId: str(options.data_source_id), collectorId: config.collectorId, context: { prismUrl: connection.baseUrl, account: config.serviceAccountId } }, taskLog);
    await progress(92);
    if (options.push_metrics !== false) result.metricCount = await pushMetrics(metrics, prism, inventory, taskLog);
    await progress(97);
  } catch (err) {
    const failure = ClientError.from(err);
    const endedBy = failure.category === ErrorCategory.CONFLICT ? await endedByInventory(tasks, task.jobTaskId) : undefined;
    if (endedBy) {
      prism.close();
      result.status = endedBy;
      taskLog.warn({ status: endedBy }, "the job task was ended by inventory; stopping");
      return result;
    }
    result.status = "FAILURE";
    result.failure = `${failure.errorCode}: ${failure.message}`;
    taskLog.error({ error_code: failure.errorCode, category: failure.category, alert: shouldAlert(failure.category), err: failure.message }, "Nutanix collection failed");
  } finally {
    prism.close();
  }

  // 7. Complete with exact counts (seed 000 "Complete JobTask"); inventory may have ended it meanwhile.
  const completed = await step(taskLog, "complete job task", () =>
    tasks.complete({
      jobTaskId: task.jobTaskId,
      status: result.status === "FINISHED" ? JobTask_Status.FINISHED : JobTask_Status.FAILURE,
      createdCount: result.createdCount,
      updatedCount: result.updatedCount,
      deletedCount: 0,
      errorCount: result.errorCount + (result.status === "FAILURE" ? 1 : 0),
      disconnectedCount: 0,
      finishedAt: timestampFromDate(new Date()),
    }),
  ).catch(async (err: ClientError) => {
    const endedBy = err.category === ErrorCategory.CONFLICT ? await endedByInventory(tasks, task.jobTaskId) : undefined;
    if (!endedBy) throw err;
    result.status = endedBy;
    return undefined;
  });
  if (!completed) return result;

  // 8. Tell the workspace (seed 000 "Send Notification").
  if (options.notify !== false) {
    try {
      const { workspaceId } = await tasks.get({ jobTaskId: task.jobTaskId });
      const collected = result.createdCount + result.updatedCount;
      const sent = await notifications.send(
        result.status === "FINISHED"
          ? {
              title: "Collection Complete: Nutanix Plugin",
              message: `Successfully collected ${collected} resources. ${result.errorCount} errors occurred.`,
              severity: result.errorCount > 0 ? Notification_Severity.WARNING : Notification_Severity.INFO,
              notificationType: Notification_NotificationType.USER,
              tags: { collector_id: config.collectorId, job_id: jobId, resource_count: String(collected), error_count: String(result.errorCount) },
              workspaceId,
            }
          : {
              title: "Collection Failed: Nutanix Plugin",
              message: `Collection failed after ${collected} resources: ${result.failure}`.slice(0, 4000),
              severity: Notification_Severity.ERROR,
              notificationType: Notification_NotificationType.USER,
              tags: { collector_id: config.collectorId, job_id: jobId, resource_count: String(collected), error_count: String(result.errorCount + 1) },
              workspaceId,
            },
        { headers: { [IDEMPOTENCY_KEY_HEADER]: `${task.jobTaskId}-notification` } },
      );
      result.notificationId = sent.notificationId;
    } catch (err) {
      const failure = ClientError.from(err);
      taskLog.warn({ error_code: failure.errorCode, err: failure.message }, "could not send the collection notification");
    }
  }
  taskLog.info({ status: result.status, created: result.createdCount, updated: result.updatedCount, errors: result.errorCount, costs: result.costCount, metrics: result.metricCount }, "Nutanix push collection done");
  return result;
}

interface CostContext {
  costModel: ReturnType<typeof costModelFrom>;
  dataSourceId: string;
  collectorId: string;
  context: { prismUrl: string; account: string };
}

/** One cost row per VM for today (UTC), in batches of up to 1,000, each batch idempotent by key. */
async function pushCosts(costs: ReturnType<typeof createServiceClient<typeof CostService>>, inventory: PrismInventory, ctx: CostContext, log: Logger): Promise<number> {
  const date = new Date().toISOString().slice(0, 10);
  const mapping = { ...ctx.context, clusters: new Map(inventory.clusters.map((c) => [c.metadata.uuid, c])) };
  const rows = inventory.vms.map((vm) => {
    const instance = vmToInstance(vm, mapping);
    const data = instance.data ?? {};
    return {
      date,
      cost: dailyVmCost(ctx.costModel, { vcpus: vcpuCount(vm), memoryGb: memoryGb(vm), diskGb: Number(data.disk_total_gb ?? 0), poweredOn: data.power_state === "ON" }),
      currency: ctx.costModel.currency,
      resourceId: vm.metadata.uuid,
      resourceType: "compute.Instance",
      region: "on-premises",
      tags: { ...(instance.tags ?? {}), provider: PROVIDER, account: ctx.context.account },
    };
  });
  let created = 0;
  for (let i = 0; i < rows.length; i += 1000) {
    // One key per account, day and chunk: a second run the same day does not charge the day twice.
    const key = `nutanix-${ctx.collectorId}-${ctx.context.account}-${date}-costs-${i / 1000}`;
    try {
      const answer = await costs.batchCreate({ dataSourceId: ctx.dataSourceId, costs: rows.slice(i, i + 1000), idempotencyKey: key }, { headers: { [IDEMPOTENCY_KEY_HEADER]: key } });
      created += answer.createdCount;
      if (answer.failedCount > 0) log.warn({ failed: answer.failedCount, first: answer.failures[0]?.message }, "some cost rows were rejected");
    } catch (err) {
      const failure = ClientError.from(err);
      log.warn({ error_code: failure.errorCode, err: failure.message }, "could not push costs");
    }
  }
  return created;
}

/** cpu.utilization and memory.utilization (percent) per powered-on VM, from Prism's v1 stats. */
async function pushMetrics(metrics: ReturnType<typeof createServiceClient<typeof MetricService>>, prism: PrismClient, inventory: PrismInventory, log: Logger): Promise<number> {
  let stats: Awaited<ReturnType<PrismClient["vmStats"]>>;
  try {
    stats = await prism.vmStats();
  } catch (err) {
    log.warn({ err: err instanceof Error ? err.message : String(err) }, "could not read VM stats; no metrics pushed");
    return 0;
  }
  const timestamp = timestampFromDate(new Date());
  const percent = (ppm: string | undefined) => (ppm === undefined || !Number.isFinite(Number(ppm)) ? undefined : Math.round(Number(ppm) / 100) / 100);
  let created = 0;
  const queue = inventory.vms.filter((vm) => (vm.status.resources?.power_state ?? vm.spec.resources.power_state) === "ON" && stats.has(vm.metadata.uuid));
  const worker = async () => {
    for (let vm = queue.shift(); vm; vm = queue.shift()) {
      const s = stats.get(vm.metadata.uuid)!;
      const dimensions = { cluster: (vm.status.cluster_reference ?? vm.spec.cluster_reference)?.name ?? "", provider: PROVIDER };
      const items = [
        { metric_name: "cpu.utilization", value: percent(s.hypervisor_cpu_usage_ppm) },
        { metric_name: "memory.utilization", value: percent(s["guest.memory_usage_ppm"] ?? s.hypervisor_memory_usage_ppm) },
      ].filter((m): m is { metric_name: string; value: number } => m.value !== undefined);
      if (items.length === 0) continue;
      try {
        const answer = await metrics.pushBatch({ resourceId: vm.metadata.uuid, timestamp, metrics: items.map((m) => ({ metricName: m.metric_name, value: m.value, unit: "percent", dimensions })) });
        created += answer.createdCount;
      } catch (err) {
        const failure = ClientError.from(err);
        log.warn({ resource_id: vm.metadata.uuid, error_code: failure.errorCode, err: failure.message }, "could not push metrics");
      }
    }
  };
  await Promise.all(Array.from({ length: 4 }, worker));
  return created;
}

/** CANCELED or TIMEOUT when inventory already ended the task (a canceled job, a passed timeout). */
async function endedByInventory(tasks: ReturnType<typeof createServiceClient<typeof JobTaskService>>, jobTaskId: string): Promise<"CANCELED" | "TIMEOUT" | undefined> {
  try {
    const { status } = await tasks.get({ jobTaskId });
    if (status === JobTask_Status.CANCELED) return "CANCELED";
    if (status === JobTask_Status.TIMEOUT) return "TIMEOUT";
  } catch {
    // Not knowable; fall through to completing as FAILURE.
  }
  return undefined;
}

/** Runs one platform step, logging its failure with the seed's category before rethrowing. */
async function step<T>(log: Logger, name: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    const failure = ClientError.from(err);
    log.error({ step: name, error_code: failure.errorCode, category: failure.category, alert: shouldAlert(failure.category), err: failure.message }, `${name} failed`);
    throw failure;
  }
}

function positiveInt(value: unknown, fallback: number): number {
  if (value === undefined || value === null) return fallback;
  const n = Number(value);
  return Number.isInteger(n) && n > 0 && n <= 10_000 ? n : fallback;
}

function str(value: unknown): string {
  return typeof value === "string" ? value : "";
}
