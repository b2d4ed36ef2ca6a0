import { createHash, randomBytes, randomUUID } from "node:crypto";
import os from "node:os";
import type { Database } from "@cloudforet/db";
import type { EventBus } from "@cloudforet/events";
import { OutboundPolicy } from "@cloudforet/outbound";
import type { Logger } from "pino";
import type { OrchestrationConfig } from "./config";
import type { InstanceRow } from "./db/schema";
import { CronSchedules } from "./cron/cron-schedules";
import { CronTicker } from "./cron/cron-ticker";
import { createEngineMetrics, type EngineMetrics } from "./engine/engine-metrics";
import { createHandlerRegistry } from "./engine/handlers/registry";
import { CheckpointRepository } from "./engine/checkpoint-repository";
import type { EngineEvents, InstanceStateChange, RequeuedTask } from "./engine/engine-events";
import { InstancePass } from "./engine/instance-pass";
import { Scheduler } from "./engine/scheduler";
import { SequenceCache } from "./engine/sequence-cache";
import { StepExecutor } from "./engine/step-executor";
import { Wakeups } from "./engine/wakeups";
import { ConcurrencySlots } from "./flow/concurrency-slots";
import { RateLimits } from "./rate-limits/rate-limits";
import { InstanceRepository } from "./instances/repository";
import { Instances } from "./instances/instances";
import { StateChanges } from "./instances/state-changes";
import { CredentialSealer, type CredentialKey } from "./recurrent/credential-sealer";
import { platformPolicyOf, recurrentRequestHandler } from "./recurrent/recurrent-handler";
import { RecurrentRequests } from "./recurrent/recurrent-requests";
import { RecurrentTicker } from "./recurrent/recurrent-ticker";
import { recurrentServiceIdentities } from "./recurrent/service-identities";
import { SequenceRepository } from "./sequences/repository";
import { Sequences } from "./sequences/sequences";
import { openStepSecrets, StepSecretSealer } from "./sequences/step-secrets";
import { DedupeSweeper } from "./triggers/dedupe-sweeper";
import { Triggers } from "./triggers/triggers";
import { TaskWaiters } from "./workers/task-waiters";
import { TaskWakeups } from "./workers/task-wakeups";
import { WorkerReaper } from "./workers/worker-reaper";
import { WorkerTaskRepository } from "./workers/repository";
import { Workers } from "./workers/workers";
import { ReportAdvance } from "./engine/report-advance";
import { Approvals } from "./approvals/approvals";
import { EventStreams } from "./event-stream/event-stream";
import { WebhookDispatcher } from "./webhooks/webhook-dispatcher";
import { Webhooks } from "./webhooks/webhooks";
import { HandlerBreakers, type BreakerSettings } from "./breakers/handler-breakers";
import { ClusterMembership } from "./cluster/cluster-nodes";
import { Credentials } from "./credentials/credentials";
import { CredentialReferences } from "./credentials/credential-references";
import { Sessions } from "./sessions/sessions";

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
  /** What http_request, llm_call, tool_call and recurrent requests may reach (default: no allowlist). */
  outbound?: OutboundPolicy;
  /** Handler circuit breakers (default: 5 consecutive failures, 30 s cooldown) and the cluster heartbeat (default 15 s). */
  features?: { breakers?: BreakerSettings; nodeHeartbeatMs?: number; operatorDomains?: ReadonlySet<string> };
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
  /** Engine features beyond seed 002 (README): webhooks, event streams, approvals, breakers, cluster nodes, sessions, credentials. */
  readonly webhooks: Webhooks;
  readonly eventStreams: EventStreams;
  readonly approvals: Approvals;
  readonly breakers: HandlerBreakers;
  readonly cluster: ClusterMembership;
  readonly sessions: Sessions;
  readonly credentials: Credentials;
  private readonly webhookDispatcher: WebhookDispatcher;
  private readonly dedupeSweeper?: DedupeSweeper;
  private readonly cronTicker?: CronTicker;
  private readonly scheduler?: Scheduler;
  private readonly wakeups: Wakeups;
  private readonly taskWaiters = new TaskWaiters();
  private readonly taskWakeups: TaskWakeups;
  private readonly reaper: WorkerReaper;

  constructor(private readonly options: OrchestrationOptions) {
    const { db, config, logger } = options;
    const outbound = options.outbound ?? new OutboundPolicy();
    const scope = createHash("sha256").update(options.databaseUrl ?? "embedded").digest("hex").slice(0, 16);
    this.wakeups = new Wakeups(options.bus, scope, this.engineId, logger);
    this.stateChanges = new StateChanges(options.bus, scope, this.engineId, logger.child({ component: "watch" }));
    // External workers: long-poll wake-ups (here and across replicas) and the reaper, on every replica.
    this.taskWakeups = new TaskWakeups(options.bus, scope, this.engineId, this.taskWaiters, logger.child({ component: "workers" }));
    const events = new EngineEventRouter(this.wakeups, this.taskWakeups, this.stateChanges);
    const instanceRepo = new InstanceRepository(db);
    const taskRepo = new WorkerTaskRepository(db, events);
    // One set of keys seals both recurrent requests' credentials and step params' (config or key file; a random one when absent).
    const credentialKeys = options.credentialKeys ?? config.recurrent.credentialKeys ?? [{ kid: "ephemeral", key: randomBytes(32) }];
    const stepSecrets = new StepSecretSealer(credentialKeys);
    this.sequences = new Sequences(new SequenceRepository(db), stepSecrets);
    this.instances = new Instances(instanceRepo, taskRepo, { maxContextBytes: config.maxContextBytes }, events);
    this.workers = new Workers(taskRepo, events, this.taskWaiters, { maxOutputBytes: config.maxOutputBytes });
    this.triggers = new Triggers(db, this.instances, events);
    this.rateLimits = new RateLimits(db);
    this.cron = new CronSchedules(db, this.instances, {
      clock: options.clock, // undefined in production: the database's clock decides
      maxMetadataBytes: config.maxContextBytes,
      events,
      changed: () => this.cronTicker?.wake(),
      triggered: (count) => this.metrics.cronTriggered.inc(count),
      logger: logger.child({ component: "cron" }),
    });
    this.recurrent = new RecurrentRequests(db, this.instances, {
      now: options.clock ?? (() => new Date()),
      sealer: new CredentialSealer(credentialKeys),
      serviceUrls: config.recurrent.serviceUrls,
      serviceIdentities: recurrentServiceIdentities(config.recurrent.serviceUrls, logger.child({ component: "recurrent" })),
      outbound,
      events,
      changed: () => this.recurrentTicker?.wake(),
      logger: logger.child({ component: "recurrent" }),
    });
    this.webhooks = new Webhooks(db, { sealer: new CredentialSealer(credentialKeys), outbound, logger: logger.child({ component: "webhooks" }) });
    this.webhookDispatcher = new WebhookDispatcher({ db, webhooks: this.webhooks, outbound, sent: this.metrics.webhooksSent, failed: this.metrics.webhooksFailed, logger: logger.child({ component: "webhooks" }) });
    this.webhooks.queued = () => this.webhookDispatcher.wake();
    events.webhooks = this.webhooks;
    this.eventStreams = new EventStreams(db, logger.child({ component: "event-stream" }));
    this.approvals = new Approvals(db, this.instances);
    this.breakers = new HandlerBreakers(options.features?.breakers ?? { failureThreshold: 5, cooldownMs: 30_000 }, logger.child({ component: "breakers" }));
    this.sessions = new Sessions(db);
    this.credentials = new Credentials(db, { sealer: new CredentialSealer(credentialKeys), outbound, logger: logger.child({ component: "credentials" }) });
    this.cluster = new ClusterMembership({
      db,
      nodeId: this.engineId,
      heartbeatMs: options.features?.nodeHeartbeatMs ?? 15_000,
      logger: logger.child({ component: "cluster", node_id: this.engineId }),
      drain: async () => this.scheduler?.stop(config.leaseMs),
      operatorDomains: options.features?.operatorDomains,
    });
    this.reaper = new WorkerReaper(taskRepo, {
      heartbeatTimeoutMs: config.workerHeartbeatTimeoutMs,
      reaped: this.metrics.workerTasksReaped,
      events,
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
        outbound,
        extra: { recurrent_request: recurrentRequestHandler(this.recurrent, { policy: outbound, platformPolicy: platformPolicyOf(outbound, config.recurrent.serviceUrls) }) },
        guards: [new CredentialReferences(this.credentials), this.breakers],
      });
      const slots = new ConcurrencySlots(db);
      const checkpoints = new CheckpointRepository(db, taskRepo, events);
      const sequenceCache = new SequenceCache(db, (blocks, sequenceId) =>
        openStepSecrets(blocks, stepSecrets, sequenceId, (err) => engineLog.error({ sequence_id: sequenceId, reason: err.message }, "a sealed step param does not open with the configured keys; the step gets it still sealed")),
      );
      const steps = new StepExecutor({ db, registry, checkpoints, rateLimits: this.rateLimits, metrics: this.metrics, logger: engineLog, events });
      const pass = new InstancePass(
        { db, sequences: sequenceCache, checkpoints, steps, metrics: this.metrics, logger: engineLog, slots, events },
        { maxContextBytes: config.maxContextBytes, maxPassMs: 2_000 },
      );
      this.scheduler = new Scheduler(
        { db, metrics: this.metrics, logger: engineLog, slots, pass, events },
        { engineId: this.engineId, tickMs: config.tickMs, leaseMs: config.leaseMs, batchSize: config.claimBatch, maxActive: config.maxActive },
      );
      events.engine = { scheduler: this.scheduler, pass };
      this.workers.advance = new ReportAdvance({ db, tasks: taskRepo, scheduler: this.scheduler, pass, logger: engineLog });
      this.recurrentTicker = new RecurrentTicker(this.recurrent, engineLog.child({ component: "recurrent" }), { tickMs: config.cronTickMs });
      this.cronTicker = new CronTicker(this.cron, engineLog.child({ component: "cron" }), { tickMs: config.cronTickMs });
      this.dedupeSweeper = new DedupeSweeper(this.triggers, engineLog.child({ component: "dedupe-sweeper" }), { ttlMs: config.dedupeTtlMs, intervalMs: config.dedupeSweepMs });
    }
  }

  async start(): Promise<void> {
    await this.cluster.start();
    await this.taskWakeups.listen();
    this.reaper.start();
    await this.stateChanges.listen();
    this.webhookDispatcher.start();
    if (!this.scheduler) return;
    await this.wakeups.listen(() => this.scheduler?.kick());
    await this.scheduler.start();
    this.cronTicker?.start();
    this.recurrentTicker?.start();
    this.dedupeSweeper?.start();
    this.options.logger.info({ engine_id: this.engineId }, "orchestration engine started");
  }

  /** Fires the due recurrent requests now (tests drive it with an injected clock). */
  async fireRecurrent(): Promise<number> {
    return this.recurrentTicker ? this.recurrentTicker.tick() : 0;
  }

  /** Fires the due cron schedules now (tests drive it with an injected clock). */
  async fireCron(): Promise<number> {
    return this.cronTicker ? this.cronTicker.tick() : 0;
  }

  async close(graceMs = 5_000): Promise<void> {
    this.taskWaiters.close(); // long polls answer [] now rather than hold the shutdown
    this.eventStreams.close(); // so do event streams
    await this.reaper.stop();
    await this.taskWakeups.close();
    await this.cronTicker?.stop();
    await this.recurrentTicker?.stop();
    await this.stateChanges.close();
    await this.dedupeSweeper?.stop();
    await this.wakeups.close();
    await this.scheduler?.stop(graceMs);
    await this.webhookDispatcher.stop(); // after the engine: its hand-backs queue deliveries too (sent by another replica or at restart)
    this.breakers.shutdown();
    await this.cluster.stop();
  }
}

/**
 * The process's one EngineEvents (see engine/engine-events.ts): what each report means for the
 * scheduler, the instance pass, the long-polling workers, watch streams and the other replicas.
 * `engine` is set once the scheduler exists; a replica without an engine only publishes wake-ups.
 */
class EngineEventRouter implements EngineEvents {
  engine?: { scheduler: Scheduler; pass: InstancePass };
  /**
   * Outgoing webhooks: the deliveries of every state change are already written with it (by the
   * database, in the changing statement); an engine change only wakes the dispatcher early.
   */
  webhooks?: Webhooks;

  constructor(
    private readonly wakeups: Wakeups,
    private readonly taskWakeups: TaskWakeups,
    private readonly stateChanges: StateChanges,
  ) {}

  /**
   * Claim here now, and tell the other replicas when this engine cannot take all `count` (or runs
   * no engine) — they would otherwise only see them at their next tick. Publishing only then keeps
   * wake-ups off the bus while one replica keeps up.
   */
  instancesDue(count = 1): void {
    this.engine?.scheduler.kick();
    if ((this.engine?.scheduler.freeCapacity() ?? 0) < count) this.wakeups.publish();
  }

  instanceDue(_instanceId: string, at?: number): void {
    if (at === undefined) this.engine?.scheduler.kick();
    else this.engine?.scheduler.kickAt(at);
  }

  instanceSignalled(instanceId: string): void {
    if (!this.engine) return this.instancesDue();
    // A pass running it here takes it in at once; otherwise claim that one instance directly.
    if (this.engine.pass.notify(instanceId)) return;
    if (this.engine.scheduler.freeCapacity() > 0) this.engine.scheduler.claimInstance(instanceId);
    else this.instancesDue();
  }

  /** A claim reports no previous state; the watch stream knows it. */
  instanceStateChanged(row: InstanceRow, change: InstanceStateChange): void {
    if (change.from === change.to) return;
    this.webhooks?.wakeFor(row, change);
    this.stateChanges.report({
      id: row.id,
      sequenceId: row.sequenceId,
      domainId: row.domainId,
      tenantId: row.tenantId,
      namespace: row.namespace,
      state: change.to,
      previousState: change.from,
      nextFireAt: change.next === null ? null : new Date(change.next).toISOString(),
      updatedAt: new Date().toISOString(),
    });
  }

  stepCommitted(wakesInstances: boolean): void {
    this.taskWakeups.committed(); // announce the worker tasks the step's transaction dispatched
    // Only a step that created or signalled instances made anything due; a claim after every
    // dispatch cost each worker step a scheduler query for nothing.
    if (wakesInstances) this.instancesDue();
  }

  workerTaskDispatched(tenantId: string, handlerName: string): void {
    this.taskWakeups.noteDispatch(tenantId, handlerName);
  }

  workerTaskCompleted(instanceId: string): void {
    this.instanceSignalled(instanceId);
  }

  workerTasksRequeued(tasks: RequeuedTask[]): void {
    for (const task of tasks) this.taskWakeups.ready(task.tenantId, task.handlerName);
  }
}
