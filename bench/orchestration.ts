// End-to-end instances/s of the orchestration engine — REST batch create → claimed (FOR UPDATE SKIP
// LOCKED) → steps run → completed with their outputs stored — for 1-step and 3-step noop sequences,
// against a baseline measured in the same run on the same database: a minimal SKIP LOCKED claim
// loop over copies of the same tables (claim a batch, mark each instance completed and store its
// outputs, nothing else). The engine runs as its own process, as in production.
// Then batch creation alone: 100,000 instances (`--quick`: 10,000) through REST /instances/batch, due
// tomorrow so that the engine does not run them, against a bare multi-row INSERT of the same rows.
import { randomUUID } from "node:crypto";
import postgres from "postgres";
import { isQuick, report, type BenchRow } from "./support/report";
import { startServiceProcess } from "./support/service-process";
import { freePort } from "@cloudforet/testing";

const quick = isQuick();
const total = quick ? 2_000 : 10_000;
const createTotal = quick ? 10_000 : 100_000;
const batch = 1_000;
const tenant = "domain-default";

const restPort = await freePort();
const service = await startServiceProcess("orchestration", { ORCHESTRATION_HTTP_ADDR: `127.0.0.1:${restPort}`, ORCHESTRATION_TICK_MS: "200" });
const rest = `http://127.0.0.1:${restPort}`;
const sql = postgres(service.databaseUrl, { max: 10, onnotice: () => {} });

async function call(method: string, path: string, body: unknown): Promise<any> {
  const res = await fetch(`${rest}${path}`, { method, headers: { "content-type": "application/json", authorization: `Bearer ${service.token}` }, body: JSON.stringify(body) });
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  return res.json();
}

/**
 * Polls until `n` instances of the namespace completed. The count scans the namespace's rows in the
 * database being measured, so it polls every 50 ms: often enough that a run's end is known to under
 * 2 % of its length, rarely enough that the probe is not a noticeable part of the database's work
 * (every 10 ms it was a sixth of it during ours, and nothing during the baseline, which it waits for
 * only after its workers return).
 */
async function waitCompleted(table: string, namespace: string, n: number): Promise<void> {
  for (;;) {
    const [{ c }] = await sql.unsafe(`select count(*)::int as c from orchestration.${table} where namespace = $1 and state = 'completed'`, [namespace]);
    if (c >= n) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const sequences = new Map<number, string>();

async function sequenceOf(steps: number): Promise<string> {
  if (!sequences.has(steps)) {
    const blocks = Array.from({ length: steps }, (_, i) => ({ type: "step", id: `step_${i}`, handler: "noop" }));
    sequences.set(steps, (await call("POST", "/sequences", { tenant_id: tenant, namespace: "bench", name: `noop-${steps}`, blocks })).id);
  }
  return sequences.get(steps)!;
}

/** Ours: REST batch creates, the engine process runs them. Returns instances/s and the seconds the creates took. */
async function ours(steps: number, count = total, namespace = `ours-${steps}`): Promise<{ rate: number; createSeconds: number }> {
  const id = await sequenceOf(steps);
  const started = performance.now();
  for (let from = 0; from < count; from += batch) {
    const instances = Array.from({ length: Math.min(batch, count - from) }, () => ({ sequence_id: id, tenant_id: tenant, namespace }));
    await call("POST", "/instances/batch", { instances });
  }
  const createSeconds = (performance.now() - started) / 1000;
  await waitCompleted("instances", namespace, count);
  const seconds = (performance.now() - started) / 1000;
  const [{ outputs }] = await sql`select count(*)::int as outputs from orchestration.block_outputs o join orchestration.instances i on i.id = o.instance_id where i.namespace = ${namespace}`;
  if (outputs !== count * steps) throw new Error(`expected ${count * steps} outputs, found ${outputs}`);
  return { rate: count / seconds, createSeconds };
}

/** Baseline: the same rows in copies of the tables, claimed and completed by a bare SKIP LOCKED loop. */
async function baseline(steps: number): Promise<number> {
  const namespace = `base-${steps}`;
  const sequenceId = randomUUID();
  const workers = 4;
  const started = performance.now();
  for (let from = 0; from < total; from += batch) {
    const rows = Array.from({ length: Math.min(batch, total - from) }, () => ({ id: randomUUID(), sequence_id: sequenceId, domain_id: tenant, tenant_id: tenant, namespace, state: "scheduled", next_fire_at: new Date().toISOString() }));
    await sql`insert into orchestration.instances_baseline (id, sequence_id, domain_id, tenant_id, namespace, state, next_fire_at)
              select * from jsonb_to_recordset(${sql.json(rows)}::jsonb) as x(id uuid, sequence_id uuid, domain_id text, tenant_id text, namespace text, state text, next_fire_at timestamptz)`;
  }
  const worker = async (name: string) => {
    for (;;) {
      const claimed = await sql`
        with due as (
          select id from orchestration.instances_baseline
          where locked_by is null and state = 'scheduled' and next_fire_at <= now()
          order by priority_rank desc nulls last, next_fire_at limit 64 for update skip locked)
        update orchestration.instances_baseline i set locked_by = ${name}, state = 'running', lease_expires_at = now() + interval '30 seconds'
        from due where i.id = due.id returning i.id`;
      if (claimed.length === 0) return;
      await Promise.all(
        claimed.map(({ id }) => {
          const outputs = Array.from({ length: steps }, (_, i) => ({ id: randomUUID(), instance_id: id, block_id: `step_${i}`, output: {}, output_size: 2, attempt: 0 }));
          return sql`
            with done as (update orchestration.instances_baseline set state = 'completed', locked_by = null, lease_expires_at = null, next_fire_at = null, updated_at = now()
                          where id = ${id} and locked_by = ${name} returning id)
            insert into orchestration.block_outputs_baseline (id, instance_id, block_id, output, output_size, attempt)
            select x.id, x.instance_id, x.block_id, x.output, x.output_size, x.attempt
            from jsonb_to_recordset(${sql.json(outputs)}::jsonb) as x(id uuid, instance_id uuid, block_id text, output jsonb, output_size int, attempt int)
            where exists (select 1 from done)`;
        }),
      );
    }
  };
  await Promise.all(Array.from({ length: workers }, (_, i) => worker(`baseline-${i}`)));
  await waitCompleted("instances_baseline", namespace, total);
  return total / ((performance.now() - started) / 1000);
}

/** Ours: REST batch creates of instances due tomorrow (so only the create is measured). Instances/s. */
async function oursBatchCreate(): Promise<number> {
  const id = await sequenceOf(1);
  const namespace = "create-only";
  const due = new Date(Date.now() + 86_400_000).toISOString();
  const started = performance.now();
  for (let from = 0; from < createTotal; from += batch) {
    const instances = Array.from({ length: Math.min(batch, createTotal - from) }, () => ({ sequence_id: id, tenant_id: tenant, namespace, next_fire_at: due }));
    await call("POST", "/instances/batch", { instances });
  }
  const rate = createTotal / ((performance.now() - started) / 1000);
  const [{ c }] = await sql`select count(*)::int as c from orchestration.instances where namespace = ${namespace} and state = 'scheduled'`;
  if (c !== createTotal) throw new Error(`expected ${createTotal} scheduled instances, found ${c}`);
  return rate;
}

/** Baseline: the same rows by multi-row INSERT (jsonb_to_recordset, as the engine's own insert) into the copy of the table. */
async function baselineBatchCreate(): Promise<number> {
  const sequenceId = randomUUID();
  const due = new Date(Date.now() + 86_400_000).toISOString();
  const started = performance.now();
  for (let from = 0; from < createTotal; from += batch) {
    const rows = Array.from({ length: Math.min(batch, createTotal - from) }, () => ({ id: randomUUID(), sequence_id: sequenceId, domain_id: tenant, tenant_id: tenant, namespace: "create-only", state: "scheduled", next_fire_at: due }));
    await sql`insert into orchestration.instances_baseline (id, sequence_id, domain_id, tenant_id, namespace, state, next_fire_at)
              select * from jsonb_to_recordset(${sql.json(rows)}::jsonb) as x(id uuid, sequence_id uuid, domain_id text, tenant_id text, namespace text, state text, next_fire_at timestamptz)`;
  }
  return createTotal / ((performance.now() - started) / 1000);
}

try {
  await sql`create table orchestration.instances_baseline (like orchestration.instances including all)`;
  await sql`create table orchestration.block_outputs_baseline (like orchestration.block_outputs including all)`;
  await ours(1, 500, "warm-up"); // JIT and connection pools of the engine process
  const rows: BenchRow[] = [];
  const ratios: number[] = [];
  for (const steps of [1, 3]) {
    const base = await baseline(steps);
    const { rate: ourRate, createSeconds } = await ours(steps);
    rows.push({ case: `ours: ${steps}-step noop sequence, end to end`, value: ourRate, unit: "inst/s", instances: total, rest_create_s: createSeconds });
    rows.push({ case: `baseline: bare SKIP LOCKED loop, ${steps} output(s)`, value: base, unit: "inst/s", instances: total });
    ratios.push(ourRate / base);
  }
  // Last, so that the 100,000 waiting instances do not sit under the end-to-end runs.
  const baseCreate = await baselineBatchCreate();
  const ourCreate = await oursBatchCreate();
  rows.push({ case: `ours: REST batch create (${batch}/call)`, value: ourCreate, unit: "inst/s", instances: createTotal });
  rows.push({ case: "baseline: multi-row INSERT of the same rows", value: baseCreate, unit: "inst/s", instances: createTotal });
  report({
    name: "orchestration",
    quick,
    rows,
    ratio: Math.min(...ratios),
    ratioMeaning: "ours ÷ baseline instances/s end to end, the lower of the 1-step and 3-step cases (1 = as fast as a bare claim loop; batch create is reported beside it)",
  });
} finally {
  await sql.end();
  await service.stop();
}
