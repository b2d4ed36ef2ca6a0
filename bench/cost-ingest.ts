// Cost rows/s through CostService.BatchCreate (gRPC over h2c, 10,000 rows a call, into a cost service
// running as its own process) against postgres.js multi-row INSERTs of the same rows into a table of
// the same shape and indexes, in the same database, in the same run.
import { randomUUID } from "node:crypto";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import postgres from "postgres";
import { CostService } from "@cloudforet/proto/cloudforet/cost/v1/cost_pb";
import { isQuick, report } from "./support/report";
import { startServiceProcess } from "./support/service-process";

const quick = isQuick();
const total = quick ? 10_000 : 100_000;
const batchSize = 10_000;

interface Row {
  date: string;
  cents: number;
  resourceId: string;
  resourceType: string;
  region: string;
  tags: Record<string, string>;
}

const rows: Row[] = Array.from({ length: total }, (_, i) => ({
  date: new Date(Date.UTC(2024, 0, 1) + (i % 90) * 86_400_000).toISOString().slice(0, 10),
  cents: (i * 7919) % 100_000,
  resourceId: `vm-${String(i % 5000).padStart(5, "0")}`,
  resourceType: "compute.Instance",
  region: i % 2 ? "on-premises" : "eu-west",
  tags: { cluster: `cluster-${i % 12}`, environment: i % 3 ? "production" : "dev" },
}));
const expectedCents = rows.reduce((sum, row) => sum + row.cents, 0);

const service = await startServiceProcess("cost");
const sql = postgres(service.databaseUrl, { max: 4, onnotice: () => {} });
try {
  // ours
  const client = createClient(
    CostService,
    createGrpcTransport({ baseUrl: service.url, interceptors: [(next) => (req) => (req.header.set("authorization", `Bearer ${service.token}`), next(req))] }),
  );
  let storedCents = 0;
  const oursStarted = performance.now();
  for (let from = 0; from < total; from += batchSize) {
    const costs = rows.slice(from, from + batchSize).map((row) => ({ date: row.date, cost: row.cents / 100, resourceId: row.resourceId, resourceType: row.resourceType, region: row.region, tags: row.tags }));
    const answer = await client.batchCreate({ costs });
    if (answer.failedCount !== 0) throw new Error(`BatchCreate refused ${answer.failedCount} rows`);
    storedCents += Math.round(answer.totalCost * 100);
  }
  const oursSeconds = (performance.now() - oursStarted) / 1000;
  const [{ count }] = await sql`select count(*)::int as count from cost.costs`;
  if (count !== total || storedCents !== expectedCents) throw new Error(`stored ${count} rows summing ${storedCents} cents; expected ${total} summing ${expectedCents}`);

  // baseline: the same rows, multi-row INSERT with postgres.js, into a copy of the table
  await sql`create table cost.costs_baseline (like cost.costs including defaults including indexes)`;
  const columns = ["cost_id", "domain_id", "workspace_id", "data_source_id", "date", "cost", "currency", "resource_id", "resource_type", "region", "tags", "job_id"];
  const perInsert = Math.floor(65_000 / columns.length);
  const jobId = `job-cost-${randomUUID()}`;
  const baselineStarted = performance.now();
  for (let from = 0; from < total; from += perInsert) {
    const values = rows.slice(from, from + perInsert).map((row) => ({
      cost_id: `cost-${randomUUID()}`,
      domain_id: "domain-default",
      workspace_id: "",
      data_source_id: "",
      date: row.date,
      cost: String(row.cents / 100),
      currency: "USD",
      resource_id: row.resourceId,
      resource_type: row.resourceType,
      region: row.region,
      tags: sql.json(row.tags),
      job_id: jobId,
    }));
    await sql`insert into cost.costs_baseline ${sql(values)}`;
  }
  const baselineSeconds = (performance.now() - baselineStarted) / 1000;

  const ours = total / oursSeconds;
  const baseline = total / baselineSeconds;
  report({
    name: "cost-ingest",
    quick,
    rows: [
      { case: `ours: CostService.BatchCreate (gRPC, ${batchSize} rows/call)`, value: ours, unit: "rows/s", rows: total, seconds: oursSeconds },
      { case: "baseline: postgres.js multi-row INSERT", value: baseline, unit: "rows/s", rows: total, seconds: baselineSeconds },
    ],
    ratio: ours / baseline,
    ratioMeaning: "ours rows/s ÷ baseline rows/s; higher is better",
  });
} finally {
  await sql.end();
  await service.stop();
}
