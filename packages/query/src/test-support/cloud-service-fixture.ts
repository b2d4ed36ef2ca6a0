import { jsonb, pgSchema, text, timestamp } from "drizzle-orm/pg-core";
import type { TestSchema } from "@cloudforet/testing";
import { col, defineQueryFields, json } from "../field-map";

/** A cloud-service-like table in the test's own schema. */
export function cloudServiceTable(schema: string) {
  return pgSchema(schema).table("cloud_service", {
    cloudServiceId: text("cloud_service_id").primaryKey(),
    name: text("name").notNull(),
    provider: text("provider").notNull(),
    cloudServiceType: text("cloud_service_type").notNull(),
    state: text("state").notNull(),
    account: text("account"),
    data: jsonb("data").$type<Record<string, unknown>>().notNull(),
    tags: jsonb("tags").$type<Record<string, string>>().notNull(),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull(),
  });
}

export type CloudServiceTable = ReturnType<typeof cloudServiceTable>;

export function cloudServiceFields(table: CloudServiceTable) {
  return defineQueryFields(
    {
      cloud_service_id: col(table.cloudServiceId),
      name: col(table.name),
      provider: col(table.provider),
      cloud_service_type: col(table.cloudServiceType),
      state: col(table.state),
      account: col(table.account),
      data: json(table.data),
      tags: json(table.tags),
      created_at: col(table.createdAt, "datetime"),
    },
    { keywordFields: ["name", "account", "tags.environment"], defaultSort: [{ key: "created_at" }, { key: "cloud_service_id" }] },
  );
}

type Row = CloudServiceTable["$inferInsert"];

/**
 * Rows that reproduce seed 000: the "Query Cloud Services" filter matches 45 of them (the
 * first two by name being the seed's two results) and the "Statistics Query" gives exactly
 * the seed's three groups. Noise rows (another provider, another type, non-numeric data)
 * must be filtered out by both.
 */
export function cloudServiceRows(): Row[] {
  const rows: Omit<Row, "createdAt">[] = [];
  const nutanixInstance = { provider: "nutanix", cloudServiceType: "compute.Instance" };
  const production = { account: "sa-prod-cluster-01", tags: { environment: "production" } };
  rows.push({
    ...nutanixInstance,
    ...production,
    cloudServiceId: "cs-zzzzzzzz-zzzz-zzzz-zzzz-zzzzzzzzzzzz",
    name: "prod-web-server-01",
    state: "ON",
    data: { cpu_cores: 8, memory_gb: 32, cluster: "cluster-prod-01" },
  });
  rows.push({
    ...nutanixInstance,
    ...production,
    cloudServiceId: "cs-wwwwwwww-wwww-wwww-wwww-wwwwwwwwwwww",
    name: "prod-web-server-02",
    state: "ON",
    data: { cpu_cores: 16, memory_gb: 64, cluster: "cluster-prod-01" },
  });
  // 40 more ON in cluster-prod-01: cpu 39×12 + 33 = 501 (avg over 42 with 8 and 16: 12.5),
  // memory 48 each (avg 48), disk 525 each (total 21000).
  for (let i = 3; i <= 42; i++) {
    rows.push({
      ...nutanixInstance,
      ...production,
      cloudServiceId: `cs-prod-on-${pad(i)}`,
      name: `prod-web-server-${pad(i)}`,
      state: "ON",
      data: { cluster: "cluster-prod-01", cpu_cores: i === 42 ? 33 : 12, memory_gb: 48, disk_total_gb: 525 },
    });
  }
  for (let i = 1; i <= 8; i++) {
    rows.push({
      ...nutanixInstance,
      ...production,
      cloudServiceId: `cs-prod-off-${pad(i)}`,
      name: `prod-batch-${pad(i)}`,
      state: "OFF",
      data: { cluster: "cluster-prod-01", cpu_cores: 4, memory_gb: 16, disk_total_gb: 250 },
    });
  }
  // 15 ON in cluster-dev-01; three of them are billed to the production account.
  for (let i = 1; i <= 15; i++) {
    const staging = i <= 3;
    rows.push({
      ...nutanixInstance,
      ...(staging ? production : { account: "sa-dev-cluster-01", tags: { environment: "development" } }),
      cloudServiceId: `cs-dev-on-${pad(i)}`,
      name: staging ? `staging-app-${pad(i)}` : `dev-app-${pad(i)}`,
      state: "ON",
      data: { cluster: "cluster-dev-01", cpu_cores: 8, memory_gb: 32, disk_total_gb: 100 },
    });
  }
  rows.push({
    ...production,
    provider: "aws",
    cloudServiceType: "compute.Instance",
    cloudServiceId: "cs-aws-01",
    name: "aws-web-01",
    state: "ON",
    data: { cluster: "cluster-prod-01", cpu_cores: "lots", memory_gb: null },
  });
  rows.push({
    ...production,
    provider: "nutanix",
    cloudServiceType: "storage.Volume",
    cloudServiceId: "cs-volume-01",
    name: "prod-volume-01",
    state: "ON",
    data: { cluster: "cluster-prod-01", size_gb: 500 },
  });
  const start = Date.parse("2024-01-01T00:00:00Z");
  return rows.map((row, index) => ({ ...row, createdAt: new Date(start + index * 60_000) }));
}

const pad = (n: number) => String(n).padStart(2, "0");

export async function createCloudServices(test: TestSchema): Promise<CloudServiceTable> {
  await test.sql.unsafe(`CREATE TABLE "${test.schema}".cloud_service (
    cloud_service_id text PRIMARY KEY,
    name text NOT NULL,
    provider text NOT NULL,
    cloud_service_type text NOT NULL,
    state text NOT NULL,
    account text,
    data jsonb NOT NULL DEFAULT '{}',
    tags jsonb NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL
  )`);
  const table = cloudServiceTable(test.schema);
  await test.db.insert(table).values(cloudServiceRows());
  return table;
}
