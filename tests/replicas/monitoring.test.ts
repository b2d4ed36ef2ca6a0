// Two monitoring replicas on one database: pushes through both at once (into day partitions neither
// has created yet, so both create partitions at the same moment), and both replicas' retention sweeps
// running every second against the same expired partitions: each is dropped once, by one replica, and
// neither logs a failure. Monitoring evaluates no alert rules in the background (its service.ts runs
// only the retention sweep), so there is no evaluation loop to check for double firing.
import { mkdtempSync, readFileSync, existsSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { monitoringModule } from "@cloudforet/monitoring";
import { MetricService } from "@cloudforet/proto/cloudforet/monitoring/v1/metric_pb";
import { startService, type RunningService } from "@cloudforet/runtime";
import { startReplicas, waitFor, type Replicas } from "@cloudforet/testing";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startBackdrop, startIdentity, type Backdrop } from "./backdrop";
import { replicaClient } from "./clients";

const DAY_MS = 86_400_000;
// Days long past any retention window, as partitions left over from a year-old deployment.
const EXPIRED = ["metrics_p20200101", "metrics_p20200102", "metrics_p20200103"];

let backdrop: Backdrop;
let identity: RunningService | undefined;
let replicas: Replicas | undefined;
let token: string;
let sql: postgres.Sql;
// Every log line at info or above, whatever LOG_LEVEL says, goes to the capture file (packages/runtime logger).
const ownCapture = !process.env.CLOUDFORET_LOG_CAPTURE;
if (ownCapture) process.env.CLOUDFORET_LOG_CAPTURE = mkdtempSync(path.join(os.tmpdir(), "replicas-monitoring-logs-"));
const captureFile = path.join(process.env.CLOUDFORET_LOG_CAPTURE!, `logs-${process.pid}.jsonl`);

interface LogLine {
  service: string;
  level: string;
  msg: string;
  dropped?: string[];
}
const monitoringLogs = (): LogLine[] =>
  existsSync(captureFile)
    ? readFileSync(captureFile, "utf8")
        .split("\n")
        .filter(Boolean)
        .map((line) => JSON.parse(line) as LogLine)
        .filter((line) => line.service === "monitoring")
    : [];

beforeAll(async () => {
  backdrop = await startBackdrop("replicas_monitoring");
  ({ identity, token } = await startIdentity(backdrop));
  replicas = await startReplicas(startService, monitoringModule, 2, backdrop.env({ IDENTITY_URL: identity.url, MONITORING_RETENTION_SWEEP_SECONDS: "1" }));
  sql = postgres(backdrop.database.url, { max: 2, onnotice: () => {} });
}, 120_000);

afterAll(async () => {
  await sql?.end();
  await replicas?.close();
  await identity?.close();
  if (ownCapture) delete process.env.CLOUDFORET_LOG_CAPTURE;
  await backdrop?.close();
}, 60_000);

describe("monitoring on two replicas", () => {
  it("pushes through both replicas at once, into days neither has a partition for, all land", async () => {
    const now = Date.now();
    const pushes = Array.from({ length: 60 }, (_, i) =>
      replicaClient(MetricService, replicas!.url(i % 2), token).push({
        resourceId: `vm-${i % 5}`,
        metricName: "cpu.utilization",
        value: i,
        unit: "percent",
        // Six past days, each pushed through both replicas: both create its partition at once.
        timestamp: timestampFromMs(now - (3 + (i % 6)) * DAY_MS - i * 1000),
      }),
    );
    await Promise.all(pushes);
    const [{ n }] = await sql<{ n: number }[]>`select count(*)::int as n from monitoring.metrics where metric_name = 'cpu.utilization'`;
    expect(n).toBe(60);
  });

  it("both replicas' retention sweeps drop each expired partition once, and neither logs an error", async () => {
    for (const name of EXPIRED) {
      const day = `${name.slice(9, 13)}-${name.slice(13, 15)}-${name.slice(15, 17)}`;
      await sql.unsafe(`create table monitoring.${name} partition of monitoring.metrics for values from ('${day}T00:00:00Z') to ('${day}T00:00:00Z'::timestamptz + interval '1 day')`);
    }
    const remaining = async () => (await sql`select relname from pg_class where relname = any(${EXPIRED}) and relnamespace = 'monitoring'::regnamespace`).length;
    await waitFor(async () => (await remaining()) === 0, 15_000, "the expired partitions dropped");
    // A few more passes of both sweeps, which find nothing left to drop.
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    const logs = monitoringLogs();
    const drops = logs.flatMap((line) => line.dropped ?? []).filter((name) => EXPIRED.includes(name));
    expect(drops.sort()).toEqual([...EXPIRED].sort());
    expect(logs.filter((line) => line.level === "warn" || line.level === "error" || line.level === "fatal")).toEqual([]);
    // The live partitions the pushes created are still there, rows and all.
    const [{ n }] = await sql<{ n: number }[]>`select count(*)::int as n from monitoring.metrics where metric_name = 'cpu.utilization'`;
    expect(n).toBe(60);
  });
});
