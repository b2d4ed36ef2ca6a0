import { fileURLToPath } from "node:url";
import { sql } from "drizzle-orm";
import { migrate, openDatabase, queryRows, type DatabaseHandle } from "@cloudforet/db";
import { createLogger } from "@cloudforet/runtime";
import { createTestDatabase, type TestDatabase } from "@cloudforet/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MetricRepository } from "../metrics/repository";
import { DAY_MS, DayPartitions, dayOf, dayOfPartition, partitionName } from "./day-partitions";

const logger = createLogger("monitoring-test", "silent");
const migrationsFolder = fileURLToPath(new URL("../../drizzle", import.meta.url));
const day = (iso: string) => dayOf(Date.parse(iso));

describe("partition names", () => {
  it("round-trip between a UTC day and metrics_pYYYYMMDD", () => {
    expect(partitionName(day("2024-01-15T23:59:59Z"))).toBe("metrics_p20240115");
    expect(dayOfPartition("metrics_p20240115")).toBe(day("2024-01-15T00:00:00Z"));
    expect(dayOfPartition("metrics_default")).toBeUndefined();
    expect(dayOfPartition("outbox")).toBeUndefined();
  });
});

/** The same behaviour on a Postgres server (postgres.js) and on embedded PGlite. */
describe.each(["postgres", "pglite"] as const)("day partitions on %s", (kind) => {
  let database: TestDatabase | undefined;
  let handle: DatabaseHandle;
  let partitions: DayPartitions;
  let repo: MetricRepository;

  beforeAll(async () => {
    if (kind === "postgres") database = await createTestDatabase("monitoring_partitions");
    handle = await openDatabase({ url: database?.url, dataDir: `memory://monitoring-partitions-${process.pid}`, schema: "monitoring", logger });
    await migrate(handle, { migrationsFolder, schema: "monitoring", logger });
    partitions = new DayPartitions(handle.db);
    repo = new MetricRepository(handle.db, partitions);
  });

  afterAll(async () => {
    await handle?.close();
    await database?.drop();
  });

  const names = async () =>
    (
      await queryRows<{ name: string }>(
        handle.db,
        sql`select c.relname as name from pg_inherits i join pg_class c on c.oid = i.inhrelid join pg_class p on p.oid = i.inhparent
            join pg_namespace n on n.oid = p.relnamespace where n.nspname = 'monitoring' and p.relname = 'metrics' order by 1`,
      )
    ).map((r) => r.name);
  const count = async () => Number((await queryRows<{ n: string | number }>(handle.db, sql`select count(*) as n from monitoring.metrics`))[0].n);
  const sample = (iso: string, value: number) => ({ resourceId: "vm-1", metricName: "cpu", value, unit: "", at: Date.parse(iso), dimensions: {} });

  it("creates a day's partition on its first write and stores multi-day batches", async () => {
    await repo.insert("domain-a", "", [sample("2024-01-14T23:59:59.999Z", 1), sample("2024-01-15T00:00:00Z", 2), sample("2024-01-16T12:00:00Z", 3)]);
    expect(await names()).toEqual(["metrics_p20240114", "metrics_p20240115", "metrics_p20240116"]);
    expect(await count()).toBe(3);
  });

  it("drops only the partitions whose whole day is older than the cutoff", async () => {
    const dropped = await partitions.dropBefore(new Date("2024-01-16T06:00:00Z"));
    expect(dropped).toEqual(["metrics_p20240114", "metrics_p20240115"]);
    expect(await names()).toEqual(["metrics_p20240116"]);
    expect(await count()).toBe(1);
    expect(await partitions.dropBefore(new Date("2024-01-16T06:00:00Z"))).toEqual([]);
  });

  it("recreates a partition another process dropped behind this one's back", async () => {
    const other = new DayPartitions(handle.db);
    await repo.insert("domain-a", "", [sample("2024-01-17T01:00:00Z", 4)]);
    await other.dropBefore(new Date("2024-01-18T00:00:00Z")); // this repo still believes 2024-01-17 exists
    await repo.insert("domain-a", "", [sample("2024-01-17T02:00:00Z", 5)]);
    expect(await names()).toEqual(["metrics_p20240117"]);
    expect(await count()).toBe(1);
  });

  it("creates concurrently requested days once", async () => {
    const a = new DayPartitions(handle.db);
    const b = new DayPartitions(handle.db);
    const days = Array.from({ length: 5 }, (_, i) => day("2024-02-01T00:00:00Z") + i);
    await Promise.all([a.ensure(days), b.ensure(days.reverse())]);
    expect((await names()).filter((n) => n.startsWith("metrics_p202402"))).toHaveLength(5);
    expect(DAY_MS).toBe(86_400_000);
  });
});
