import { randomUUID } from "node:crypto";
import { fileURLToPath } from "node:url";
import { migrate, openDatabase, queryRows, type DatabaseHandle } from "@cloudforet/db";
import { sql as q } from "drizzle-orm";
import { createLogger } from "@cloudforet/runtime";
import { createTestDatabase, startStatementCounter, type StatementCounter, type TestDatabase } from "@cloudforet/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { instances, type InstanceRow } from "../db/schema";
import { WorkerTaskRepository } from "../workers/repository";
import { CheckpointRepository } from "./checkpoint-repository";
import { LeaseLostError, newPassState, type PassState } from "./pass-state";

const logger = createLogger("orchestration-test", "silent");
let database: TestDatabase;
let counter: StatementCounter;
let handle: DatabaseHandle;
/** Reads and outside changes, around the counter. */
let direct: DatabaseHandle;
const sql = <T extends Record<string, unknown>>(query: ReturnType<typeof q>) => queryRows<T>(direct.db, query);
let checkpoints: CheckpointRepository;
const stateChanges: { id: string; from?: string; to: string }[] = [];

beforeAll(async () => {
  database = await createTestDatabase("orch_checkpoints");
  const setup = await openDatabase({ url: database.url, schema: "orchestration", logger });
  await migrate(setup, { migrationsFolder: fileURLToPath(new URL("../../drizzle", import.meta.url)), schema: "orchestration", logger });
  direct = setup;
  counter = await startStatementCounter(database.url);
  handle = await openDatabase({ url: counter.url, schema: "orchestration", logger });
  checkpoints = new CheckpointRepository(handle.db, new WorkerTaskRepository(handle.db), {
    instanceStateChanged: (row, change) => stateChanges.push({ id: row.id, from: change.from, to: change.to }),
  });
});

afterAll(async () => {
  await direct?.close();
  await handle?.close();
  await counter?.close();
  await database?.drop();
});

/** Running instances held by `token`, as a claim leaves them, and their passes. */
async function claimed(count: number, token = "engine-a"): Promise<PassState[]> {
  const sequenceId = randomUUID();
  const rows = await handle.db
    .insert(instances)
    .values(Array.from({ length: count }, () => ({ id: randomUUID(), sequenceId, domainId: "acme", tenantId: "acme", namespace: "checkpoints", state: "running", lockedBy: token, leaseExpiresAt: new Date(Date.now() + 60_000) })))
    .returning();
  return rows.map((row: InstanceRow) => newPassState(row, undefined, false));
}

/** What a pass did in memory before its checkpoint: a step's output and some context. */
function stepped(run: PassState, n: number): void {
  run.context = { ...run.context, data: { n } };
  run.pendingOutputs.push({ id: randomUUID(), instanceId: run.row.id, blockId: "step_0", output: { n }, outputSize: 8, attempt: 0, createdAt: new Date() });
}

const checkpointStatements = () => counter.statements().filter((text) => /^\s*with (cur|x) as \(/.test(text) && text.includes('"orchestration"."instances"'));

describe("checkpoints of passes that end together", () => {
  it("share statements, and each instance gets exactly its own state, context and outputs", async () => {
    const runs = await claimed(60);
    runs.forEach(stepped);
    counter.reset();
    const results = await Promise.all(runs.map((run) => checkpoints.write(run, { to: "completed", next: null, release: true })));
    expect(results).toEqual(runs.map(() => "written"));
    // Two go alone while the rest gather: far fewer statements than checkpoints.
    expect(checkpointStatements().length).toBeLessThanOrEqual(10);
    const stored = await sql<{ id: string }>(q`select i.id, i.state, i.locked_by, i.context, (select jsonb_agg(o.output->>'n') from orchestration.block_outputs o where o.instance_id = i.id) as outputs
                             from orchestration.instances i where i.id in (select jsonb_array_elements_text(${JSON.stringify(runs.map((run) => run.row.id))}::jsonb)::uuid)`);
    const byId = new Map(stored.map((row) => [row.id, row]));
    for (const [n, run] of runs.entries()) {
      expect(byId.get(run.row.id)).toMatchObject({ state: "completed", locked_by: null, context: { data: { n } }, outputs: [String(n)] });
      expect(run.pendingOutputs).toEqual([]);
      expect(run.expected).toBe("completed");
    }
    expect(stateChanges.filter((c) => runs.some((run) => run.row.id === c.id))).toHaveLength(60);
  });

  it("answer each pass as its own statement would: a lost lease, a waiting signal and a state changed from outside", async () => {
    const runs = await claimed(12);
    runs.forEach(stepped);
    const [lost, flagged, paused] = runs;
    await sql(q`update orchestration.instances set locked_by = 'engine-b' where id = ${lost.row.id}`);
    await sql(q`update orchestration.instances set needs_attention = true where id = ${flagged.row.id}`);
    await sql(q`update orchestration.instances set state = 'paused' where id = ${paused.row.id}`);
    counter.reset();
    const results = await Promise.allSettled(runs.map((run) => checkpoints.write(run, { to: "completed", next: null, release: true })));
    expect(checkpointStatements().length).toBeLessThan(runs.length);
    expect(results[0]).toMatchObject({ status: "rejected", reason: expect.any(LeaseLostError) });
    // A release waits while a signal is pending: nothing written, the pass takes it in first.
    expect(results[1]).toEqual({ status: "fulfilled", value: "attention" });
    expect(flagged.attention).toBe(true);
    expect(flagged.pendingOutputs).toHaveLength(1);
    // Paused from outside: the progress is saved, the state stays theirs.
    expect(results[2]).toEqual({ status: "fulfilled", value: "written" });
    expect(paused.stoppedBy).toBe("paused");
    for (const result of results.slice(3)) expect(result).toEqual({ status: "fulfilled", value: "written" });
    const rows = await sql<{ id: string }>(q`select id, state, locked_by from orchestration.instances where id in (select jsonb_array_elements_text(${JSON.stringify(runs.map((run) => run.row.id))}::jsonb)::uuid)`);
    const states = new Map(rows.map((row) => [row.id, row]));
    expect(states.get(lost.row.id)).toMatchObject({ state: "running", locked_by: "engine-b" });
    expect(states.get(flagged.row.id)).toMatchObject({ state: "running", locked_by: "engine-a" });
    expect(states.get(paused.row.id)).toMatchObject({ state: "paused", locked_by: null });
    for (const run of runs.slice(3)) expect(states.get(run.row.id)).toMatchObject({ state: "completed", locked_by: null });
    const [{ count }] = await sql<{ count: number }>(q`select count(*)::int as count from orchestration.block_outputs where instance_id in (select jsonb_array_elements_text(${JSON.stringify([lost.row.id, flagged.row.id])}::jsonb)::uuid)`);
    expect(count).toBe(0);
  });

  it("a single checkpoint is still one statement of its own", async () => {
    const [run] = await claimed(1);
    stepped(run, 0);
    counter.reset();
    expect(await checkpoints.write(run, { to: "waiting", next: null, release: true })).toBe("written");
    const statements = checkpointStatements();
    expect(statements).toHaveLength(1);
    expect(statements[0]).toMatch(/^\s*with cur as/);
  });
});
