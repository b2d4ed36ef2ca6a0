import { createHash, randomBytes, randomUUID } from "node:crypto";
import os from "node:os";
import type { Database } from "@cloudforet/db";
import type { EventBus } from "@cloudforet/events";
import type { Logger } from "pino";
import type { OrchestrationConfig } from "./config";
import type { InstanceRow } from "./db/schema";
import { CronSchedules } from "./cron/cron-schedules";
import { CronTicker } from "./cron/cron-ticker";
import { createEngineMetrics, type EngineMetrics } from "./engine/engine-metrics";
import { createHandlerRegistry } from "./engine/handlers/registry";
import { InstanceRunner } from "./engine/instance-runner";
import { Scheduler } from "./engine/scheduler";
import { SequenceCache } from "./engine/sequence-cache";
import { Wakeups } from "./engine/wakeups";
import { ConcurrencySlots } from "./flow/concurrency-slots";
import { RateLimits } from "./flow/rate-limits";
import { InstanceRepository } from "./instances/instance-repository";
import { Instances } from "./instances/instances";
import { StateChanges } from "./instances/state-changes";
import { CredentialSealer, type CredentialKey } from "./recurrent/credential-sealer";
import { recurrentRequestHandler } from "./recurrent/recurrent-handler";
import { RecurrentRequests } from "./recurrent/recurrent-requests";
import { RecurrentTicker } from "./recurrent/recurrent-ticker";
import { SequenceRepository } from "./sequences/sequence-repository";
import { Sequences } from "./sequences/sequences";
import { DedupeSweeper } from "./triggers/dedupe-sweeper";
import { Triggers } from "./triggers/triggers";
import { TaskWaiters } from "./workers/task-waiters";
import { TaskWakeups } from "./workers/task-wakeups";
import { WorkerReaper } from "./workers/worker-reaper";
import { WorkerTaskRepository } from "./workers/worker-task-repository";
import { Workers } from "./workers/workers";

export interface OrchestrationOptions {
  db: Database;
  bus: EventBus;
  logger: Logger;
  config: OrchestrationConfig;
  /** Which database this engine works on (replicas of one deployment share it); scopes wake-ups. */
  databaseUrl?: string;
  /** The time cron schedules are evaluated at (injectable for tests; default the system clock). */
  clock?: () => Date;
  /** Keys sealing recurrent requests' credentials (config or key file; a random one when absent). */
  credentialKeys?: CredentialKey[];
}

/**
 * The orchestration domain and its engine, one per process: what both front doors (REST and
 * gRPC) call, and the scheduler that runs the instances.
 */
export class Orchestration {
  readonly engineId = `${os.hostname()}-${process.pid}-${randomUUID().slice(0, 8)}`;
  readonly metrics: EngineMetrics = createEngineMetrics();
  readonly sequences: Sequences;
  readonly instances: Instances;
  readonly workers: Workers;
  readonly triggers: Triggers;
  readonly cron: CronSchedules;
  readonly recurrent: RecurrentRequests;
  /** State-change notifications (InstanceService.Watch). */
  readonly stateChanges: StateChanges;
  private readonly recurrentTicker?: RecurrentTicker;
  readonly rateLimits: RateLimits;
  private readonly dedupeSweeper?: DedupeSweeper;
  private readonly cronTicker?: CronTicker;
  private readonly scheduler?: Scheduler;
  private readonly runner?: InstanceRunner;
  private readonly wakeups: Wakeups;
  private readonly taskWaiters = new TaskWaiters();
  private readonly taskWakeups: TaskWakeups;
  private readonly reaper: WorkerReaper;

  constructor(private readonly options: OrchestrationOptions) {
    const { db, config, logger } = options;
    const instanceRepo = new InstanceRepository(db);
    const taskRepo = new WorkerTaskRepository(db, { dispatched: (tenant, handler) => this.taskWakeups.noteDispatch(tenant, handler) });
    this.sequences = new Sequences(new SequenceRepository(db));
    this.instances = new Instances(instanceRepo, taskRepo, { maxContextBytes: config.maxContextBytes, wake: (id, count) => this.wake(id, count) });
    this.workers = new Workers(taskRepo, (id) => this.wake(id), this.taskWaiters);
    this.triggers = new Triggers(db, this.instances, () => this.wake());
    this.rateLimits = new RateLimits(db);
    this.cron = new CronSchedules(db, this.instances, {
      now: options.clock ?? (() => new Date()),
      maxMetadataBytes: config.maxContextBytes,
      wake: (count) => this.wake(undefined, count),
      triggered: (count) => this.metrics.cronTriggered.inc(count),
      logger: logger.child({ component: "cron" }),
    });
    const scope = createHash("sha256").update(options.databaseUrl ?? "embedded").digest("hex").slice(0, 16);
    this.wakeups = new Wakeups(options.bus, scope, this.engineId, logger);
    this.stateChanges = new StateChanges(options.bus, scope, this.engineId, logger.child({ component: "watch" }));
    this.recurrent = new RecurrentRequests(db, this.instances, {
      now: options.clock ?? (() => new Date()),
      sealer: new CredentialSealer(options.credentialKeys ?? config.recurrent.credentialKeys ?? [{ kid: "ephemeral", key: randomBytes(32) }]),
      serviceUrls: config.recurrent.serviceUrls,
      wake: (count) => this.wake(undefined, count),
      logger: logger.child({ component: "recurrent" }),
    });
    // External workers: long-poll wake-ups (here and across replicas) and the reaper, on every replica.
    this.taskWakeups = new TaskWakeups(options.bus, scope, this.engineId, this.taskWaiters, logger.child({ component: "workers" }));
    this.reaper = new WorkerReaper(taskRepo, {
      heartbeatTimeoutMs: config.workerHeartbeatTimeoutMs,
      reaped: this.metrics.workerTasksReaped,
      onReaped: (tasks) => tasks.forEach((t) => this.taskWakeups.ready(t.tenantId, t.handlerName)),
      logger: logger.child({ component: "worker-reaper" }),
    });
    if (config.engineEnabled) {
      const engineLog = logger.child({ component: "engine", engine_id: this.engineId });
      const registry = createHandlerRegistry({
        logger: engineLog,
        instances: instanceRepo,
        triggers: this.triggers,
        tasks: taskRepo,
        llm: { llmUrl: config.llmUrl, llmApiKey: config.llmApiKey, toolUrl: config.toolUrl },
        extra: { recurrent_request: recurrentRequestHandler(this.recurrent) },
      });
      const slots = new ConcurrencySlots(db);
      const runner = (this.runner = new InstanceRunner(
        {
          db,
          sequences: new SequenceCache(db),
          registry,
          tasks: taskRepo,
          metrics: this.metrics,
          logger: engineLog,
          rateLimits: this.rateLimits,
          slots,
          stateChanged: (row, from, to, next) => this.reportState(row, to, next, from),
          kick: () => this.scheduler?.kick(),
          kickAt: (at) => this.scheduler?.kickAt(at),
          wakeOthers: () => {
            this.taskWakeups.committed(); // a step's transaction committed: announce the tasks it dispatched
            this.wake();
          },
        },
        { maxContextBytes: config.maxContextBytes, maxPassMs: 2_000 },
      ));
      this.scheduler = new Scheduler(
        { db, metrics: this.metrics, logger: engineLog, slots, run: (row, options) => (row.state === "running" && this.reportState(row, "running", null), runner.run(row, options)) },
        { engineId: this.engineId, tickMs: config.tickMs, leaseMs: config.leaseMs, batchSize: config.claimBatch, maxActive: config.maxActive },
      );
      this.recurrentTicker = new RecurrentTicker(this.recurrent, engineLog.child({ component: "recurrent" }), { tickMs: config.cronTickMs });
      this.cronTicker = new CronTicker(this.cron, engineLog.child({ component: "cron" }), { tickMs: config.cronTickMs });
      this.dedupeSweeper = new DedupeSweeper(this.triggers, engineLog.child({ component: "dedupe-sweeper" }), { ttlMs: config.dedupeTtlMs, intervalMs: config.dedupeSweepMs });
    }
  }

  async start(): Promise<void> {
    await this.taskWakeups.listen();
    this.reaper.start();
    await this.stateChanges.listen();
    if (!this.scheduler) return;
    await this.wakeups.listen(() => this.scheduler?.kick());
    await this.scheduler.start();
    this.cronTicker?.start();
    this.recurrentTicker?.start();
    this.dedupeSweeper?.start();
    this.options.logger.info({ engine_id: this.engineId }, "orchestration engine started");
  }

  /**
   * Something became due (`count` instances; for `instanceId`, when one): claim here now, and tell
   * the other replicas when this engine cannot take it all (or runs no engine) — they would
   * otherwise only see it at their next tick. Publishing only then keeps wake-ups off the bus
   * while one replica keeps up.
   */
  wake(instanceId?: string, count = 1): void {
    if (instanceId) this.runner?.notify(instanceId);
    this.scheduler?.kick();
    if ((this.scheduler?.freeCapacity() ?? 0) < count) this.wakeups.publish();
  }

  /** Fires the due recurrent requests now (tests drive it with an injected clock). */
  async fireRecurrent(): Promise<number> {
    return this.recurrentTicker ? this.recurrentTicker.tick() : 0;
  }

  /** Tells watch streams an instance moved to `state` (a claim reports no previous state; the stream knows it). */
  private reportState(row: InstanceRow, state: string, next: number | null, previousState?: string): void {
    if (previousState === state) return;
    this.stateChanges.report({
      id: row.id,
      sequenceId: row.sequenceId,
      tenantId: row.tenantId,
      namespace: row.namespace,
      state,
      previousState,
      nextFireAt: next === null ? null : new Date(next).toISOString(),
      updatedAt: new Date().toISOString(),
    });
  }

  /** Fires the due cron schedules now (tests drive it with an injected clock). */
  async fireCron(): Promise<number> {
    return this.cronTicker ? this.cronTicker.tick() : 0;
  }

  async close(graceMs = 5_000): Promise<void> {
    this.taskWaiters.close(); // long polls answer [] now rather than hold the shutdown
    await this.reaper.stop();
    await this.taskWakeups.close();
    await this.cronTicker?.stop();
    await this.recurrentTicker?.stop();
    await this.stateChanges.close();
    await this.dedupeSweeper?.stop();
    await this.wakeups.close();
    await this.scheduler?.stop(graceMs);
  }
}
