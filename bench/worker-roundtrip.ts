// External worker round trip: a worker holding step k's task completes it, the engine moves the
// instance on and dispatches step k+1, and the worker's next poll receives it — p50/p99 ms per step.
// Ours: a plain-HTTP worker long-polling the REST API (wait_ms) of an orchestration process (its
// scheduler tick set to 200 ms, so only the wake-ups make it fast). Baseline, same run and same
// database: a minimal SKIP LOCKED claim loop on copies of the same tables, where "the engine" is
// the completing transaction itself inserting the next task and the worker re-polls at once — the
// floor of what the database can do for this round trip.
import { randomUUID } from "node:crypto";
import postgres from "postgres";
import { isQuick, quantile, report } from "./support/report";
import { startServiceProcess } from "./support/service-process";
import { freePort } from "@cloudforet/testing";

const quick = isQuick();
const instances = quick ? 10 : 50;
const steps = 20;
const handler = "roundtrip_job";
const tenant = "domain-default";

const restPort = await freePort();
const service = await startServiceProcess("orchestration", { ORCHESTRATION_HTTP_ADDR: `127.0.0.1:${restPort}`, ORCHESTRATION_TICK_MS: "200" });
const rest = `http://127.0.0.1:${restPort}`;
const sql = postgres(service.databaseUrl, { max: 4, onnotice: () => {} });

async function call(path: string, body: unknown): Promise<any> {
  const res = await fetch(`${rest}${path}`, { method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${service.token}` }, body: JSON.stringify(body) });
  if (!res.ok) throw new Error(`POST ${path}: ${res.status} ${await res.text()}`);
  return res.json();
}

/** Ours: one instance at a time; samples are the times between receiving step k's task and step k+1's. */
async function ours(count: number, namespace: string): Promise<number[]> {
  const blocks = Array.from({ length: steps }, (_, i) => ({ type: "step", id: `step_${i}`, handler }));
  const { id: sequenceId } = await call("/sequences", { tenant_id: tenant, namespace, name: `roundtrip-${namespace}`, blocks });
  const samples: number[] = [];
  for (let n = 0; n < count; n++) {
    await call("/instances", { sequence_id: sequenceId, tenant_id: tenant, namespace });
    let previous: number | undefined;
    for (let k = 0; k < steps; k++) {
      let tasks: { id: string; claim_epoch: number }[] = [];
      while (tasks.length === 0) tasks = await call("/workers/tasks/poll", { handler_name: handler, worker_id: "bench-worker", wait_ms: 10_000 });
      const received = performance.now();
      if (previous !== undefined) samples.push(received - previous);
      previous = received;
      await call(`/workers/tasks/${tasks[0].id}/complete`, { worker_id: "bench-worker", claim_epoch: tasks[0].claim_epoch, output: { k } });
    }
  }
  return samples;
}

/** Baseline: the same round trip with bare SQL — claim with SKIP LOCKED; completing stores the output and queues the next task. */
async function baseline(count: number): Promise<number[]> {
  const samples: number[] = [];
  const claim = () => sql`
    with next as (select id from orchestration.worker_tasks_baseline where handler_name = ${handler} and state = 'pending' order by created_at limit 1 for update skip locked)
    update orchestration.worker_tasks_baseline t set state = 'claimed', worker_id = 'baseline', claimed_at = now(), heartbeat_at = now(), claim_epoch = t.claim_epoch + 1
    from next where t.id = next.id returning t.id, t.instance_id, t.block_id`;
  const queue = (exec: postgres.Sql | postgres.TransactionSql, instanceId: string, k: number) => exec`
    insert into orchestration.worker_tasks_baseline (id, instance_id, block_id, node_key, handler_name, params, context)
    values (${randomUUID()}, ${instanceId}, ${`step_${k}`}, ${`step_${k}`}, ${handler}, '{}'::jsonb, '{}'::jsonb)`;
  for (let n = 0; n < count; n++) {
    const instanceId = randomUUID();
    await queue(sql, instanceId, 0);
    let previous: number | undefined;
    for (let k = 0; k < steps; k++) {
      let tasks: postgres.Row[] = [];
      while (tasks.length === 0) tasks = await claim();
      const received = performance.now();
      if (previous !== undefined) samples.push(received - previous);
      previous = received;
      const output = { k };
      await sql.begin(async (tx) => {
        await tx`update orchestration.worker_tasks_baseline set state = 'completed', output = ${tx.json(output)}, completed_at = now()
                 where id = ${tasks[0].id} and state = 'claimed' and worker_id = 'baseline'`;
        await tx`insert into orchestration.block_outputs_baseline (id, instance_id, block_id, output, output_size, attempt)
                 values (${randomUUID()}, ${instanceId}, ${`step_${k}`}, ${tx.json(output)}, 8, 0)`;
        if (k + 1 < steps) await queue(tx, instanceId, k + 1);
      });
    }
  }
  return samples;
}

try {
  await sql`create table orchestration.worker_tasks_baseline (like orchestration.worker_tasks including all)`;
  await sql`create table orchestration.block_outputs_baseline (like orchestration.block_outputs including all)`;
  await ours(2, "warm-up"); // JIT and connection pools of both processes
  await baseline(2);
  const base = await baseline(instances);
  const mine = await ours(instances, "bench");
  const row = (label: string, samples: number[]) => ({ case: label, value: quantile(samples, 0.5), unit: "ms p50", p99_ms: quantile(samples, 0.99), samples: samples.length });
  report({
    name: "worker-roundtrip",
    quick,
    rows: [row("ours: REST long-poll worker, step k done -> step k+1 received", mine), row("baseline: bare SKIP LOCKED claim loop, same tables", base)],
    ratio: quantile(mine, 0.5) / quantile(base, 0.5),
    ratioMeaning: "ours ÷ baseline p50 round-trip ms (1 = as fast as a bare SKIP LOCKED loop; higher is slower)",
  });
} finally {
  await sql.end();
  await service.stop();
}
