// Two cost replicas on one database and one NATS, written to through both at once: an idempotency
// key counts a batch once whichever replica each retry lands on, a data source id is taken once
// (the loser gets ERROR_CONFLICT, never INTERNAL), and the outbox both replicas relay reaches the
// stream once per event. Cost has no background loop of its own (no budget evaluation runs in
// services/cost/src/service.ts), so there is no periodic job to check for double firing.
import { costModule } from "@cloudforet/cost";
import { DEFAULT_STREAM } from "@cloudforet/events";
import { CostService } from "@cloudforet/proto/cloudforet/cost/v1/cost_pb";
import { DataSourceService } from "@cloudforet/proto/cloudforet/cost/v1/data_source_pb";
import { startService, type RunningService } from "@cloudforet/runtime";
import { connectTestNats, startReplicas, waitFor, type Replicas } from "@cloudforet/testing";
import { jetstreamManager } from "@nats-io/jetstream";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startBackdrop, startIdentity, type Backdrop } from "./backdrop";
import { outcome, replicaClient } from "./clients";

let backdrop: Backdrop;
let identity: RunningService | undefined;
let replicas: Replicas | undefined;
let token: string;
let sql: postgres.Sql;

beforeAll(async () => {
  backdrop = await startBackdrop("replicas_cost");
  ({ identity, token } = await startIdentity(backdrop));
  replicas = await startReplicas(startService, costModule, 2, backdrop.env({ IDENTITY_URL: identity.url }));
  sql = postgres(backdrop.database.url, { max: 2, onnotice: () => {} });
  await replicaClient(DataSourceService, replicas.url(0), token).create({ dataSourceId: "ds-replicas", name: "Replicas", provider: "manual" });
}, 120_000);

afterAll(async () => {
  await sql?.end();
  await replicas?.close();
  await identity?.close();
  await backdrop?.close();
}, 60_000);

const costsOf = (replica: number) => replicaClient(CostService, replicas!.url(replica), token);
const dataSourcesOf = (replica: number) => replicaClient(DataSourceService, replicas!.url(replica), token);

describe("cost on two replicas", () => {
  it("the same BatchCreate sent through both replicas at once is stored once and both get the same answer", async () => {
    for (let round = 0; round < 8; round++) {
      const idempotencyKey = `replicas-batch-${round}`;
      const batch = {
        dataSourceId: "ds-replicas",
        idempotencyKey,
        costs: [
          { date: "2024-01-15", cost: 12.5, resourceId: `vm-${round}-1`, region: "on-premises" },
          { date: "2024-01-15", cost: 14, resourceId: `vm-${round}-2`, region: "on-premises" },
        ],
      };
      const [a, b] = await Promise.all([costsOf(0).batchCreate(batch), costsOf(1).batchCreate(batch)]);
      expect({ created: a.createdCount, total: a.totalCost }).toEqual({ created: 2, total: 26.5 });
      expect({ created: b.createdCount, total: b.totalCost, jobId: b.jobId }).toEqual({ created: 2, total: 26.5, jobId: a.jobId });
    }
    const [{ n }] = await sql<{ n: number }[]>`select count(*)::int as n from cost.costs where data_source_id = 'ds-replicas'`;
    expect(n).toBe(16);
  });

  it("a data source id created through both replicas at once: one OK, one ALREADY_EXISTS (ERROR_CONFLICT), never INTERNAL", async () => {
    for (let round = 0; round < 10; round++) {
      const create = { dataSourceId: `ds-race-${round}`, name: `race ${round}`, provider: "manual" };
      const outcomes = await Promise.all([outcome(dataSourcesOf(0).create(create)), outcome(dataSourcesOf(1).create(create))]);
      expect(outcomes.sort()).toEqual(["AlreadyExists", "ok"]);
    }
    const [{ n }] = await sql<{ n: number }[]>`select count(*)::int as n from cost.data_sources where data_source_id like 'ds-race-%'`;
    expect(n).toBe(10);
  });

  it("events written through both replicas are relayed by both and reach the stream exactly once each", async () => {
    const creates = Array.from({ length: 40 }, (_, i) => dataSourcesOf(i % 2).create({ dataSourceId: `ds-relay-${i}`, name: `relay ${i}`, provider: "manual" }));
    await Promise.all(creates);
    await waitFor(async () => (await sql`select 1 from cost.outbox where published_at is null`).length === 0, 20_000, "the outbox relayed");
    const ids = await sql<{ id: string }[]>`select id from cost.outbox where payload->'data'->>'data_source_id' like 'ds-relay-%'`;
    expect(ids).toHaveLength(40);

    const nc = await connectTestNats(backdrop.nats.url);
    try {
      const jsm = await jetstreamManager(nc);
      const info = await jsm.streams.info(DEFAULT_STREAM, { subjects_filter: "cloudforet.cost.>" });
      const created = info.state.subjects?.["cloudforet.cost.data_source.created"] ?? 0;
      // Every data source created in this file: 1 in beforeAll, 10 races, 40 here — each once.
      const [{ n }] = await sql<{ n: number }[]>`select count(*)::int as n from cost.outbox where subject = 'cloudforet.cost.data_source.created'`;
      expect(n).toBe(51);
      expect(created).toBe(n);
      const batches = info.state.subjects?.["cloudforet.cost.cost_batch.created"] ?? 0;
      expect(batches).toBe(8);
    } finally {
      await nc.close();
    }
  });
});
