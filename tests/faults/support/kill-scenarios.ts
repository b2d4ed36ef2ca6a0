// What each service's write workload is in the kill -9 tests: a unique key per write, how the
// write is sent (and retried), and how to read back what the service stored under those keys.
import { Code, ConnectError } from "@connectrpc/connect";
import { CloudServiceService } from "@cloudforet/proto/cloudforet/cloud_service/v1/cloud_service_pb";
import { CostService } from "@cloudforet/proto/cloudforet/cost/v1/cost_pb";
import { ProjectService } from "@cloudforet/proto/cloudforet/identity/v1/project_pb";
import { UserService } from "@cloudforet/proto/cloudforet/identity/v1/user_pb";
import { CollectorService } from "@cloudforet/proto/cloudforet/inventory/v1/collector_pb";
import { MetricService } from "@cloudforet/proto/cloudforet/monitoring/v1/metric_pb";
import { Channel_ChannelType, ChannelService } from "@cloudforet/proto/cloudforet/notification/v1/channel_pb";
import { InstanceService } from "@cloudforet/proto/cloudforet/orchestration/v1/instance_pb";
import { SequenceService } from "@cloudforet/proto/cloudforet/orchestration/v1/sequence_pb";
import { clientFor, value } from "./clients";
import { isAlreadyExists, type WriteOutcome } from "./workload";

export interface KillScenario {
  /** What is written, for the test name. */
  writes: string;
  keys: string[];
  /** Runs once before the workload (e.g. creates the sequence instances refer to). */
  prepare?(): Promise<void>;
  write(key: string, attempt: number): Promise<WriteOutcome>;
  /** For APIs without an idempotency key: whether a failed attempt was committed after all. */
  landed?(key: string): Promise<boolean>;
  /** The rows write `key` stores (default: one row named `key`); a batch stores several. */
  rowsOf?(key: string): string[];
  /** The rows as the service stores them, one entry per stored row (so duplicates show). */
  stored(): Promise<string[]>;
  /**
   * The event each write puts in the service's outbox (in the write's transaction): its subject,
   * and the write key an event names (undefined for events of other writes). Each write's event
   * must reach the stream exactly once, kill or no kill.
   */
  events?: { subject: string; keyOf(data: Record<string, unknown>): string | undefined };
}

export interface ScenarioContext {
  url: string;
  token: string;
  workspaceId: string;
  /** Distinguishes this run's keys (the database is fresh anyway; this keeps messages readable). */
  run: string;
}

const ROWS_PER_BATCH = 4;
const METRICS_PER_BATCH = 3;
const page = { limit: 1000 };

const batchRows = (key: string) => Array.from({ length: ROWS_PER_BATCH }, (_, i) => `${key}-${i}`);
const keysOf = (prefix: string, count: number) => Array.from({ length: count }, (_, i) => `${prefix}-${String(i).padStart(3, "0")}`);

/**
 * ALREADY_EXISTS on a retry means the attempt the kill interrupted had been committed (its answer
 * was lost): the write is there, once. On a first attempt it would be a real error.
 */
function existingOnRetry(attempt: number, err: unknown): WriteOutcome {
  if (attempt > 1 && isAlreadyExists(err)) return "existing";
  throw err;
}

/** The write workload against service `name` (one of the seven). */
export function killScenario(name: string, ctx: ScenarioContext): KillScenario {
  const { url, token, workspaceId, run } = ctx;
  const count = 60;

  const identity = (): KillScenario => {
    const projects = clientFor(ProjectService, url, token);
    const users = clientFor(UserService, url, token);
    return {
      writes: "projects and users (client-chosen ids)",
      keys: keysOf(`${run}-project`, count / 2).flatMap((p, i) => [p, `${run}-user-${String(i).padStart(3, "0")}`]),
      async write(key, attempt) {
        try {
          if (key.includes("-project-")) await projects.create({ projectId: key, name: key, workspaceId });
          else await users.create({ userId: key, name: key });
          return "created";
        } catch (err) {
          return existingOnRetry(attempt, err);
        }
      },
      async stored() {
        const p = await projects.list({ query: { page } });
        const u = await users.list({ query: { page } });
        return [...p.results.map((r) => r.projectId), ...u.results.map((r) => r.userId)].filter((k) => k.startsWith(run));
      },
      events: {
        subject: "cloudforet.identity.",
        keyOf: (data) => {
          // A new user also publishes its (empty) role bindings as user.roles_changed: one write, one creation event.
          if ("roles" in data) return undefined;
          const key = (data.project_id ?? data.user_id) as string | undefined;
          return key?.startsWith(run) ? key : undefined;
        },
      },
    };
  };

  const inventory = (): KillScenario => {
    const collectors = clientFor(CollectorService, url, token);
    return {
      writes: "collectors (client-chosen ids)",
      keys: keysOf(`${run}-collector`, count),
      async write(key, attempt) {
        try {
          await collectors.create({ collectorId: key, name: key, provider: "nutanix", workspaceId });
          return "created";
        } catch (err) {
          return existingOnRetry(attempt, err);
        }
      },
      async stored() {
        const { results } = await collectors.list({ query: { page } });
        return results.map((c) => c.collectorId).filter((k) => k.startsWith(run));
      },
      events: { subject: "cloudforet.inventory.collector.created", keyOf: (data) => data.collector_id as string },
    };
  };

  const cloudService = (): KillScenario => {
    const resources = clientFor(CloudServiceService, url, token);
    return {
      writes: `BatchUpsert streams of ${ROWS_PER_BATCH} resources (idempotent by match rule)`,
      keys: keysOf(`${run}-vm`, count / 2),
      rowsOf: batchRows,
      async write(key) {
        const items = batchRows(key).map((resourceId) => ({
          cloudServiceType: "compute.Instance",
          cloudServiceName: resourceId,
          provider: "nutanix",
          account: "sa-faults",
          workspaceId,
          data: { batch: key },
          reference: { resourceId },
        }));
        const answer = await resources.batchUpsert(
          (async function* () {
            for (const item of items) yield { items: [item] };
          })(),
        );
        if (answer.failedCount > 0) throw new ConnectError(`BatchUpsert ${key} failed items: ${JSON.stringify(answer.errors)}`, Code.FailedPrecondition);
        return answer.createdCount === ROWS_PER_BATCH ? "created" : "existing";
      },
      async stored() {
        const { results } = await resources.list({ query: { filter: [{ k: "account", v: value("sa-faults"), o: "eq" }], page } });
        return results.map((r) => r.reference?.resourceId ?? "").filter((k) => k.startsWith(run));
      },
    };
  };

  const cost = (): KillScenario => {
    const costs = clientFor(CostService, url, token);
    // The batch's job_id, as BatchCreate answered (a replay answers the first job_id again).
    const keyOfJob = new Map<string, string>();
    return {
      writes: `BatchCreate of ${ROWS_PER_BATCH} rows with an idempotency_key`,
      keys: keysOf(`${run}-costbatch`, count / 2),
      rowsOf: batchRows,
      async write(key) {
        const answer = await costs.batchCreate({
          idempotencyKey: key,
          costs: batchRows(key).map((resourceId) => ({ date: "2024-01-15", cost: 1.25, resourceId, resourceType: "compute.Instance" })),
        });
        if (answer.createdCount !== ROWS_PER_BATCH) throw new ConnectError(`BatchCreate ${key} stored ${answer.createdCount} rows`, Code.FailedPrecondition);
        keyOfJob.set(answer.jobId, key);
        return "created";
      },
      async stored() {
        const { results } = await costs.list({ query: { page } });
        return results.map((r) => r.resourceId).filter((k) => k.startsWith(run));
      },
      // An event of a job_id no answer named would be a batch stored twice (a lost idempotency record).
      events: { subject: "cloudforet.cost.cost_batch.created", keyOf: (data) => keyOfJob.get(data.job_id as string) ?? `unanswered job ${String(data.job_id)}` },
    };
  };

  const monitoring = (): KillScenario => {
    const metrics = clientFor(MetricService, url, token);
    const samplesOf = async (key: string) => (await metrics.query({ query: { filter: [{ k: "resource_id", v: value(key), o: "eq" }], page } })).results.length;
    return {
      writes: `PushBatch of ${METRICS_PER_BATCH} samples (no idempotency key: the client reads before it retries)`,
      keys: keysOf(`${run}-res`, count),
      async write(key) {
        const answer = await metrics.pushBatch({
          resourceId: key,
          metrics: Array.from({ length: METRICS_PER_BATCH }, (_, i) => ({ metricName: `faults.m${i}`, value: i, unit: "count" })),
        });
        if (answer.createdCount !== METRICS_PER_BATCH) throw new ConnectError(`PushBatch ${key} stored ${answer.createdCount}`, Code.FailedPrecondition);
        return "created";
      },
      // A batch is one INSERT: all of it or none of it is there (a partial batch shows in `stored`).
      landed: async (key) => (await samplesOf(key)) > 0,
      async stored() {
        const { results } = await metrics.query({ query: { filter: [{ k: "metric_name", v: value("faults.m0"), o: "eq" }], page } });
        // One entry per stored batch: every batch wrote exactly one faults.m0 sample.
        const firsts = results.map((r) => r.resourceId).filter((k) => k.startsWith(run));
        const all = await metrics.query({ query: { filter: [{ k: "resource_id", v: value(firsts), o: "in" }], page: { limit: 1000 } } });
        const perResource = new Map<string, number>();
        for (const r of all.results) perResource.set(r.resourceId, (perResource.get(r.resourceId) ?? 0) + 1);
        const partial = [...perResource].filter(([, n]) => n % METRICS_PER_BATCH !== 0);
        if (partial.length > 0) throw new Error(`partially stored batches: ${JSON.stringify(partial)}`);
        return firsts;
      },
    };
  };

  const notification = (): KillScenario => {
    const channels = clientFor(ChannelService, url, token);
    return {
      writes: "webhook channels (names unique per workspace)",
      keys: keysOf(`${run}-channel`, count),
      async write(key, attempt) {
        try {
          await channels.create({ name: key, channelType: Channel_ChannelType.WEBHOOK, options: { url: "http://127.0.0.1:9/hook" }, workspaceId });
          return "created";
        } catch (err) {
          return existingOnRetry(attempt, err);
        }
      },
      async stored() {
        const { results } = await channels.list({ query: { page } });
        return results.map((c) => c.name).filter((k) => k.startsWith(run));
      },
      events: { subject: "cloudforet.notification.channel.created", keyOf: (data) => data.name as string },
    };
  };

  const orchestration = (): KillScenario => {
    const sequences = clientFor(SequenceService, url, token);
    const instances = clientFor(InstanceService, url, token);
    let sequenceId = "";
    return {
      writes: "instances with an idempotency_key",
      keys: keysOf(`${run}-instance`, count),
      async prepare() {
        ({ id: sequenceId } = await sequences.create({ namespace: "faults", name: `${run}-noop`, blocks: [{ type: "step", id: "only", handler: "noop" }] }));
      },
      async write(key) {
        const answer = await instances.create({ sequenceId, namespace: "faults", idempotencyKey: key });
        return answer.deduplicated ? "existing" : "created";
      },
      async stored() {
        const { results } = await instances.list({ namespace: "faults", limit: 1000 });
        return results.map((i) => i.idempotencyKey ?? "").filter((k) => k.startsWith(run));
      },
    };
  };

  const builders: Record<string, () => KillScenario> = { identity, inventory, "cloud-service": cloudService, cost, monitoring, notification, orchestration };
  if (!builders[name]) throw new Error(`no kill scenario for ${name}`);
  return builders[name]();
}
