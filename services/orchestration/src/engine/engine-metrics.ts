import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

/** The orch8_* metrics by the seed's names, in a registry of their own (served on the REST port's /metrics). */
export interface EngineMetrics {
  registry: Registry;
  instancesClaimed: Counter;
  instancesCompleted: Counter;
  instancesFailed: Counter;
  stepsExecuted: Counter;
  stepsFailed: Counter;
  stepsRetried: Counter;
  signalsDelivered: Counter;
  rateLimitsExceeded: Counter;
  recoveryStaleInstances: Counter;
  webhooksSent: Counter;
  webhooksFailed: Counter;
  cronTriggered: Counter;
  workerTasksReaped: Counter;
  tickDuration: Histogram;
  stepDuration: Histogram<"handler">;
  instanceProcessing: Histogram;
  queueDepth: Gauge;
  activeTasks: Gauge;
}

export function createEngineMetrics(): EngineMetrics {
  const registry = new Registry();
  registry.setDefaultLabels({ service: "orchestration" });
  collectDefaultMetrics({ register: registry });
  const registers = [registry];
  const counter = (name: string, help: string) => new Counter({ name, help, registers });
  return {
    registry,
    instancesClaimed: counter("orch8_instances_claimed_total", "Instances claimed by scheduler"),
    instancesCompleted: counter("orch8_instances_completed_total", "Instances completed successfully"),
    instancesFailed: counter("orch8_instances_failed_total", "Instances failed (entered DLQ)"),
    stepsExecuted: counter("orch8_steps_executed_total", "Steps executed"),
    stepsFailed: counter("orch8_steps_failed_total", "Steps that failed"),
    stepsRetried: counter("orch8_steps_retried_total", "Retry attempts"),
    signalsDelivered: counter("orch8_signals_delivered_total", "Signals processed"),
    rateLimitsExceeded: counter("orch8_rate_limits_exceeded_total", "Rate limit deferrals"),
    recoveryStaleInstances: counter("orch8_recovery_stale_instances_total", "Stale instances recovered (at startup and periodically)"),
    webhooksSent: counter("orch8_webhooks_sent_total", "Webhooks delivered"),
    webhooksFailed: counter("orch8_webhooks_failed_total", "Webhook delivery failures"),
    cronTriggered: counter("orch8_cron_triggered_total", "Cron instances created"),
    workerTasksReaped: counter("orch8_worker_tasks_reaped_total", "Worker tasks returned to the queue by the reaper (no heartbeat)"),
    tickDuration: new Histogram({
      name: "orch8_tick_duration_seconds",
      help: "Scheduler tick latency",
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
      registers,
    }),
    stepDuration: new Histogram({
      name: "orch8_step_duration_seconds",
      help: "Individual step execution time",
      labelNames: ["handler"],
      buckets: [0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30],
      registers,
    }),
    instanceProcessing: new Histogram({
      name: "orch8_instance_processing_seconds",
      help: "Total instance processing time (one claim of an instance, from claim to release)",
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 60],
      registers,
    }),
    queueDepth: new Gauge({ name: "orch8_queue_depth", help: "Instances claimed in current tick", registers }),
    activeTasks: new Gauge({ name: "orch8_active_tasks", help: "Currently in-flight step executions", registers }),
  };
}
