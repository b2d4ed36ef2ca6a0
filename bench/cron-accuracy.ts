// How late cron fires start: a per-second schedule (`* * * * * * *`) on the orchestration engine
// (its own process, default settings), lateness = the instance's created_at − the fire instant it
// was created for (the instant is in its idempotency key `cron:<id>:<ISO>`), and the instance's
// first step output − the instant (it ran). Baseline, in the same run and process as the bench
// driver: a plain Node timer loop aiming at the same whole seconds, recording how late each
// callback runs — the best a timer-driven scheduler can do on this machine.
import postgres from "postgres";
import { isQuick, quantile, report } from "./support/report";
import { startServiceProcess } from "./support/service-process";
import { freePort } from "@cloudforet/testing";

const quick = isQuick();
const fires = quick ? 12 : 60;
const tenant = "domain-default";

/** A timer loop aiming at each of the next `n` whole seconds; returns how late each callback ran (ms). */
function timerBaseline(n: number): Promise<number[]> {
  const lateness: number[] = [];
  return new Promise((resolve) => {
    const arm = () => {
      const target = Math.floor(Date.now() / 1000) * 1000 + 1000;
      setTimeout(() => {
        lateness.push(Date.now() - target);
        if (lateness.length >= n) resolve(lateness);
        else arm();
      }, target - Date.now());
    };
    arm();
  });
}

const restPort = await freePort();
const service = await startServiceProcess("orchestration", { ORCHESTRATION_HTTP_ADDR: `127.0.0.1:${restPort}` });
const sql = postgres(service.databaseUrl, { max: 2, onnotice: () => {} });

async function call(method: string, path: string, body: unknown): Promise<any> {
  const res = await fetch(`http://127.0.0.1:${restPort}${path}`, {
    method,
    headers: { "content-type": "application/json", authorization: `Bearer ${service.token}` },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  return res.json();
}

try {
  const sequence = await call("POST", "/sequences", { tenant_id: tenant, namespace: "bench", name: "cron-tick", blocks: [{ type: "step", id: "s", handler: "noop" }] });
  // The baseline runs at the same time as the schedule, so both see the same machine load.
  const [schedule, base] = await Promise.all([
    call("POST", "/cron", { tenant_id: tenant, namespace: "bench", sequence_id: sequence.id, cron_expr: "* * * * * * *", timezone: "UTC" }),
    timerBaseline(fires),
  ]);
  // Let the fires of the measured span finish running.
  for (let waited = 0; waited < 5_000; waited += 100) {
    const [{ n }] = await sql`select count(*)::int as n from orchestration.instances where namespace = 'bench' and state = 'completed'`;
    if (n >= fires) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await call("PUT", `/cron/${schedule.id}`, { enabled: false });
  const rows = await sql<{ key: string; created: Date; ran: Date | null }[]>`
    select i.idempotency_key as key, i.created_at as created, (select min(o.created_at) from orchestration.block_outputs o where o.instance_id = i.id) as ran
    from orchestration.instances i where i.namespace = 'bench' order by i.idempotency_key limit ${fires}`;
  const prefix = `cron:${schedule.id}:`;
  const created = rows.map((r) => r.created.getTime() - Date.parse(r.key.slice(prefix.length)));
  const ran = rows.filter((r) => r.ran).map((r) => r.ran!.getTime() - Date.parse(r.key.slice(prefix.length)));
  const p50 = quantile(created, 0.5);
  const baseP50 = quantile(base, 0.5);
  report({
    name: "cron-accuracy",
    quick,
    rows: [
      { case: "ours: cron fire → instance created (lateness)", value: p50, unit: "ms p50", p99_ms: quantile(created, 0.99), max_ms: Math.max(...created), fires: created.length },
      { case: "ours: cron fire → first step done (lateness)", value: quantile(ran, 0.5), unit: "ms p50", p99_ms: quantile(ran, 0.99), max_ms: Math.max(...ran), fires: ran.length },
      { case: "baseline: Node setTimeout loop (lateness)", value: baseP50, unit: "ms p50", p99_ms: quantile(base, 0.99), max_ms: Math.max(...base), fires: base.length },
    ],
    // Lateness below a millisecond would make the ratio meaningless; 1 ms is the floor of both.
    ratio: Math.max(1, p50) / Math.max(1, baseP50),
    ratioMeaning: "ours ÷ baseline p50 lateness of a fire (instance created vs a bare timer callback; 1 = as punctual as a timer, lower is better)",
  });
} finally {
  await sql.end();
  await service.stop();
}
