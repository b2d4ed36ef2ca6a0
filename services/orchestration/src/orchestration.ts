import { createHash, randomUUID } from "node:crypto";
import os from "node:os";
import type { Database } from "@cloudforet/db";
import type { EventBus } from "@cloudforet/events";
import type { Logger } from "pino";
import type { OrchestrationConfig } from "./config";
import { CronSchedules } from "./cron/cron-schedules";
import { CronTicker } from "./cron/cron-ticker";
import { createEngineMetrics, type EngineMetrics } from "./engine/engine-metrics";
import { createHandlerRegistry } from "./engine/handlers/registry";
import { InstanceRunner } from "./engine/instance-runner";
import { Scheduler } from "./engine/scheduler";
import { SequenceCache } from "./engine/sequence-cache";
import { Wakeups } from "./engine/wakeups";
import { InstanceRepository } from "./instances/instance-repository";
import { Instances } from "./instances/instances";
import { SequenceRepository } from "./sequences/sequence-repository";
import { Sequences } from "./sequences/sequences";
import { Triggers } from "./triggers/triggers";
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
  private readonly cronTicker?: CronTicker;
  private readonly scheduler?: Scheduler;
  private readonly runner?: InstanceRunner;
  private readonly wakeups: Wakeups;

  constructor(private readonly options: OrchestrationOptions) {
    const { db, config, logger } = options;
    const instanceRepo = new InstanceRepository(db);
    const taskRepo = new WorkerTaskRepository(db);
    this.sequences = new Sequences(new SequenceRepository(db));
    this.instances = new Instances(instanceRepo, taskRepo, { maxContextBytes: config.maxContextBytes, wake: (id, count) => this.wake(id, count) });
    this.workers = new Workers(db, taskRepo, instanceRepo, (id) => this.wake(id));
    this.triggers = new Triggers(db, this.instances, () => this.wake());
    this.cron = new CronSchedules(db, this.instances, {
      now: options.clock ?? (() => new Date()),
      maxMetadataBytes: config.maxContextBytes,
      wake: (count) => this.wake(undefined, count),
      triggered: (count) => this.metrics.cronTriggered.inc(count),
      logger: logger.child({ component: "cron" }),
    });
    const scope = createHash("sha256").update(options.databaseUrl ?? "embedded").digest("hex").slice(0, 16);
    this.wakeups = new Wakeups(options.bus, scope, this.engineId, logger);
    if (config.engineEnabled) {
      const engineLog = logger.child({ component: "engine", engine_id: this.engineId });
      const registry = createHandlerRegistry({
        logger: engineLog,
        instances: instanceRepo,
        triggers: this.triggers,
        tasks: taskRepo,
        llm: { llmUrl: config.llmUrl, llmApiKey: config.llmApiKey, toolUrl: config.toolUrl },
      });
      const runner = (this.runner = new InstanceRunner(
        {
          db,
          sequences: new SequenceCache(db),
          registry,
          tasks: taskRepo,
          metrics: this.metrics,
          logger: engineLog,
          kick: () => this.scheduler?.kick(),
          kickAt: (at) => this.scheduler?.kickAt(at),
          wakeOthers: () => this.wake(),
        },
        { maxContextBytes: config.maxContextBytes, maxPassMs: 2_000 },
      ));
      this.scheduler = new Scheduler(
        { db, metrics: this.metrics, logger: engineLog, run: (row) => runner.run(row) },
        { engineId: this.engineId, tickMs: config.tickMs, leaseMs: config.leaseMs, batchSize: config.claimBatch, maxActive: config.maxActive },
      );
      this.cronTicker = new CronTicker(this.cron, engineLog.child({ component: "cron" }), { tickMs: config.cronTickMs });
    }
  }

  async start(): Promise<void> {
    if (!this.scheduler) return;
    await this.wakeups.listen(() => this.scheduler?.kick());
    await this.scheduler.start();
    this.cronTicker?.start();
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

  /** Fires the due cron schedules now (tests drive it with an injected clock). */
  async fireCron(): Promise<number> {
    return this.cronTicker ? this.cronTicker.tick() : 0;
  }

  async close(graceMs = 5_000): Promise<void> {
    await this.cronTicker?.stop();
    await this.wakeups.close();
    await this.scheduler?.stop(graceMs);
  }
}
