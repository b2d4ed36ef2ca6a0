import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSequence, eventually, startOrchestration, type TestOrchestration } from "./support";

// GET /metrics on the REST port: every name of seed 002's Prometheus table, and counters that move.

const SEED_METRICS = [
  "orch8_instances_claimed_total",
  "orch8_instances_completed_total",
  "orch8_instances_failed_total",
  "orch8_steps_executed_total",
  "orch8_steps_failed_total",
  "orch8_steps_retried_total",
  "orch8_signals_delivered_total",
  "orch8_rate_limits_exceeded_total",
  "orch8_recovery_stale_instances_total",
  "orch8_webhooks_sent_total",
  "orch8_webhooks_failed_total",
  "orch8_cron_triggered_total",
  "orch8_tick_duration_seconds",
  "orch8_step_duration_seconds",
  "orch8_instance_processing_seconds",
  "orch8_queue_depth",
  "orch8_active_tasks",
];

let orch: TestOrchestration;

beforeAll(async () => {
  orch = await startOrchestration();
}, 60_000);

afterAll(async () => {
  await orch?.close();
});

async function metricsText(): Promise<string> {
  const res = await orch.rest("GET", "/metrics", undefined, { as: null });
  expect(res.status).toBe(200);
  return res.body as string;
}

function value(text: string, name: string): number {
  const match = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, "m").exec(text);
  return match ? Number(match[1]) : NaN;
}

describe("GET /metrics", () => {
  it("lists every metric of the seed's table with its type", async () => {
    const text = await metricsText();
    for (const name of SEED_METRICS) expect(text, name).toMatch(new RegExp(`^# TYPE ${name} (counter|gauge|histogram)$`, "m"));
    expect(text).toMatch(/^# TYPE orch8_tick_duration_seconds histogram$/m);
    expect(text).toMatch(/^# TYPE orch8_queue_depth gauge$/m);
  });

  it("claims, completions, steps and rate-limit deferrals move the counters", async () => {
    const before = await metricsText();
    // A name of its own per attempt, so a retried test does not meet its first attempt's sequence.
    const key = `metered-${Date.now().toString(36)}`;
    await orch.rest("PUT", `/rate-limits/${key}`, { max_count: 1, window: "1s" });
    const sequence = await createSequence(orch, key, [{ type: "step", id: "call", handler: "noop", rate_limit_key: key }]);
    const ids = await Promise.all(
      [0, 1, 2].map(async () => (await orch.rest("POST", "/instances", { sequence_id: sequence, tenant_id: "acme", namespace: "metrics" })).body.id as string),
    );
    await eventually(
      async () => {
        const states = await Promise.all(ids.map(async (id) => (await orch.rest("GET", `/instances/${id}`)).body.state));
        return states.every((s) => s === "completed") ? true : undefined;
      },
      30_000,
      "the metered instances to complete",
    );
    const after = await metricsText();
    const delta = (name: string) => value(after, name) - value(before, name);
    // One admission per window, and windows are fixed (aligned to the epoch): three instances
    // created together meet at most two windows before one of them is turned away.
    const deferrals = delta("orch8_rate_limits_exceeded_total");
    expect(deferrals).toBeGreaterThanOrEqual(1);
    // Each deferral parks the instance and claims it again.
    expect(delta("orch8_instances_claimed_total")).toBeGreaterThanOrEqual(3 + deferrals);
    expect(delta("orch8_instances_completed_total")).toBe(3);
    expect(delta("orch8_steps_executed_total")).toBe(3);
    expect(value(after, "orch8_tick_duration_seconds_count")).toBeGreaterThan(value(before, "orch8_tick_duration_seconds_count"));
  }, 60_000);
});
