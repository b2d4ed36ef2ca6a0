import { fileURLToPath } from "node:url";
import { sql } from "drizzle-orm";
import { migrate, openDatabase, queryRows, sqlState, type DatabaseHandle } from "@cloudforet/db";
import { createLogger } from "@cloudforet/runtime";
import { createTestDatabase, type TestDatabase } from "@cloudforet/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DayPartitions } from "../partitions/day-partitions";
import { copyIn, copyText, postgresJsClientOf } from "./copy-in";
import type { ValidSample } from "./metrics";
import { MetricRepository } from "./repository";

const logger = createLogger("monitoring-test", "silent");
const migrationsFolder = fileURLToPath(new URL("../../drizzle", import.meta.url));

/** 300 samples over two UTC days, with text COPY must escape; enough to take the bulk (COPY) path on postgres.js. */
const bulk: (ValidSample & { metricId?: string })[] = Array.from({ length: 300 }, (_, i) => ({
  resourceId: i % 3 === 0 ? `vm\t${i}\\x\nend\r` : `vm-${i}`,
  metricName: "cpu.utilization",
  value: i % 7 === 0 ? -0.1 * i - 0.5 : 1e21 / (i + 1),
  unit: i % 2 ? "per\\cent" : "",
  at: Date.parse("2024-03-09T23:59:00Z") + i * 1000,
  dimensions: i % 5 === 0 ? ({} as Record<string, string>) : { path: 'C:\\tmp\t"x"\n', "k.2": "ü😀" },
  ...(i === 1 ? { metricId: "metric-given\tid" } : {}),
}));

/** What a bulk write stores must not depend on the engine (COPY on postgres.js, INSERT on PGlite). */
describe.each(["postgres", "pglite"] as const)("bulk metric writes on %s", (kind) => {
  let database: TestDatabase | undefined;
  let handle: DatabaseHandle;
  let repo: MetricRepository;

  beforeAll(async () => {
    if (kind === "postgres") database = await createTestDatabase("monitoring_bulk");
    handle = await openDatabase({ url: database?.url, dataDir: `memory://monitoring-bulk-${process.pid}`, schema: "monitoring", logger });
    await migrate(handle, { migrationsFolder, schema: "monitoring", logger });
    repo = new MetricRepository(handle.db, new DayPartitions(handle.db));
  });

  afterAll(async () => {
    await handle?.close();
    await database?.drop();
  });

  const stored = () =>
    queryRows<{ metric_id: string; domain_id: string; workspace_id: string; resource_id: string; metric_name: string; value: number; unit: string; ms: string | number; dimensions: unknown; part: string }>(
      handle.db,
      sql`select metric_id, domain_id, workspace_id, resource_id, metric_name, value, unit, (extract(epoch from "timestamp") * 1000)::bigint as ms, dimensions, tableoid::regclass::text as part
          from monitoring.metrics order by "timestamp"`,
    );

  it("uses COPY exactly where the driver has it", () => {
    expect(postgresJsClientOf(handle.db) !== undefined).toBe(kind === "postgres");
  });

  it("stores every column as given, each day in its own partition", async () => {
    expect(await repo.insert("domain-\\a", "ws\t1", bulk)).toBe(bulk.length);
    const rows = await stored();
    expect(rows.map((r) => ({ ...r, value: Number(r.value), ms: Number(r.ms), metric_id: r.metric_id.startsWith("metric-given") ? r.metric_id : "new" }))).toEqual(
      bulk.map((s, i) => ({
        metric_id: i === 1 ? "metric-given\tid" : "new",
        domain_id: "domain-\\a",
        workspace_id: "ws\t1",
        resource_id: s.resourceId,
        metric_name: s.metricName,
        value: s.value,
        unit: s.unit,
        ms: s.at,
        dimensions: s.dimensions,
        part: s.at < Date.parse("2024-03-10T00:00:00Z") ? "monitoring.metrics_p20240309" : "monitoring.metrics_p20240310",
      })),
    );
    const generated = rows.filter((r) => !r.metric_id.startsWith("metric-given")).map((r) => r.metric_id);
    expect(new Set(generated).size).toBe(bulk.length - 1);
    for (const id of generated) expect(id).toMatch(/^metric-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it("stores a batch across midnight whole or not at all", async () => {
    const before = (await stored()).length;
    // Only the second day refuses the batch's rows: its first day must not stay behind.
    await handle.db.execute(sql`alter table monitoring.metrics_p20240310 add constraint refuse_all check (value < -1e300) not valid`);
    try {
      await expect(repo.insert("domain-a", "", bulk)).rejects.toSatisfy((err) => sqlState(err) === "23514");
    } finally {
      await handle.db.execute(sql`alter table monitoring.metrics_p20240310 drop constraint refuse_all`);
    }
    expect(await stored()).toHaveLength(before);
  });

  it("recreates a day partition another process dropped behind this one's back", async () => {
    await new DayPartitions(handle.db).dropBefore(new Date("2024-03-11T00:00:00Z")); // this repo still believes both exist
    expect(await repo.insert("domain-a", "", bulk)).toBe(bulk.length);
    expect(await stored()).toHaveLength(bulk.length);
  });
});

describe("copyIn on postgres.js", () => {
  let database: TestDatabase;
  let handle: DatabaseHandle;

  beforeAll(async () => {
    database = await createTestDatabase("monitoring_copy_in");
    handle = await openDatabase({ url: database.url, schema: "monitoring", logger });
    await handle.db.execute(sql`create table checked (n int not null check (n < 1000))`);
  });

  afterAll(async () => {
    await handle?.close();
    await database?.drop();
  });

  const client = () => postgresJsClientOf(handle.db)!;
  const count = async () => Number((await queryRows<{ n: number | string }>(handle.db, sql`select count(*) as n from checked`))[0].n);

  it("settles with an error the server raises after the last byte was sent, storing nothing", async () => {
    // Small enough to be sent whole before the server reads it: the refusal comes after CopyDone.
    const refused = copyIn(client(), "copy checked (n) from stdin", ["1\n2\n", "1000\n"]);
    await expect(refused).rejects.toSatisfy((err) => sqlState(err) === "23514");
    expect(await count()).toBe(0);
  });

  it("settles with the statement's own error before any data", async () => {
    await expect(copyIn(client(), "copy missing_table (n) from stdin", ["1\n"])).rejects.toSatisfy((err) => sqlState(err) === "42P01");
  });

  it("settles once the server stored every row, and the connection serves the next query", async () => {
    const lines = Array.from({ length: 50 }, (_, c) => Array.from({ length: 2000 }, (_, i) => `${(c * 2000 + i) % 1000}\n`).join(""));
    await copyIn(client(), "copy checked (n) from stdin", lines);
    expect(await count()).toBe(100_000);
  });

  it("escapes the text format's specials only", () => {
    expect(copyText("plain-text ü")).toBe("plain-text ü");
    expect(copyText("a\\b\tc\nd\re")).toBe("a\\\\b\\tc\\nd\\re");
  });
});
