// `pnpm load`: the load test (issue 9 §1). Starts the seven services as their own processes on a fresh
// database, then LOAD_CLIENTS (50) concurrent clients run the mixed workload of ./workload.ts for
// LOAD_DURATION_S (60) seconds; then LOAD_LOGINS (20) Logins one after another, timed apart from the
// mix (a password check is slow on purpose, so it would measure scrypt, not the platform). Prints p50/p99/count/errors per RPC, writes bench/results/load.json,
// and exits 1 on any unexpected error. RESOURCE_EXHAUSTED (rate limiting, load shedding) is counted
// apart as "limited": the workload is well formed and below every configured limit, so none is
// expected either; it is reported, and fails the run only with LOAD_FAIL_ON_LIMITED=1.
// LOAD_NATS_URL runs the services on JetStream instead of their in-process buses. The services run as
// their compiled bundles, as in production (LOAD_FROM_SOURCE=1: their TypeScript through tsx).
import { mkdirSync, writeFileSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Code, ConnectError } from "@connectrpc/connect";
import { startPlatformProcesses } from "./platform-processes";
import { prepareWorkload, type Operation } from "./workload";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

function positiveInt(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0) {
    process.stderr.write(`${name} must be a positive integer, got "${raw}"\n`);
    process.exit(2);
  }
  return value;
}

const durationS = positiveInt("LOAD_DURATION_S", 60);
const clients = positiveInt("LOAD_CLIENTS", 50);
const logins = positiveInt("LOAD_LOGINS", 20);
const failOnLimited = process.env.LOAD_FAIL_ON_LIMITED === "1";

interface RpcStats {
  latencies: number[];
  errors: number;
  limited: number;
  /** The first few distinct unexpected errors, to print. */
  samples: Set<string>;
}

/** A webhook receiver for the notification channel: answers 204 and counts the distinct deliveries it got (by idempotency key). */
async function startWebhookSink(): Promise<{ url: string; received: () => number; close(): void }> {
  const keys = new Set<string>();
  let unkeyed = 0;
  const server = http.createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      const key = req.headers["idempotency-key"];
      if (typeof key === "string") keys.add(key);
      else unkeyed++;
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, received: () => keys.size + unkeyed, close: () => server.close() };
}

/** How long the deliveries of the mix's Sends may take to arrive after it ends before the run fails. */
const DELIVERY_DRAIN_MS = 60_000;

const quantile = (sorted: number[], q: number) => (sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]);
const ms = (value: number) => (Number.isNaN(value) ? "-" : value >= 100 ? String(Math.round(value)) : value.toFixed(1));

/** Runs one call and books its latency, or its error, in `entry`. */
async function timed(operation: Operation, entry: RpcStats): Promise<void> {
  const started = performance.now();
  try {
    await operation.run();
    entry.latencies.push(performance.now() - started);
  } catch (err) {
    const error = ConnectError.from(err);
    if (error.code === Code.ResourceExhausted) entry.limited++;
    else {
      entry.errors++;
      if (entry.samples.size < 3) entry.samples.add(`${Code[error.code]}: ${error.rawMessage}`);
    }
  }
}

async function runClient(operations: Operation[], stats: Map<string, RpcStats>, deadline: number): Promise<void> {
  const totalWeight = operations.reduce((sum, op) => sum + op.weight, 0);
  while (Date.now() < deadline) {
    let roll = Math.random() * totalWeight;
    const operation = operations.find((op) => (roll -= op.weight) < 0) ?? operations[operations.length - 1];
    await timed(operation, stats.get(operation.rpc)!);
  }
}

const newStats = (): RpcStats => ({ latencies: [], errors: 0, limited: 0, samples: new Set<string>() });

function summarize(rpc: string, entry: RpcStats) {
  const sorted = [...entry.latencies].sort((a, b) => a - b);
  return { rpc, count: sorted.length, p50_ms: quantile(sorted, 0.5), p99_ms: quantile(sorted, 0.99), errors: entry.errors, limited: entry.limited, samples: [...entry.samples] };
}

process.stdout.write(`load: starting the seven services…\n`);
const platform = await startPlatformProcesses({ natsUrl: process.env.LOAD_NATS_URL, compiled: process.env.LOAD_FROM_SOURCE !== "1" });
const sink = await startWebhookSink();
let exitCode = 0;
try {
  const workload = await prepareWorkload(platform.urls, platform.adminPassword, sink.url);
  const { login } = workload;
  // LOAD_ONLY (a regular expression) keeps the RPCs it matches: one service's cost, apart from the rest.
  const only = process.env.LOAD_ONLY ? new RegExp(process.env.LOAD_ONLY) : undefined;
  const operations = workload.operations.filter((op) => !only || only.test(op.rpc));
  if (operations.length === 0) throw new Error(`LOAD_ONLY=${process.env.LOAD_ONLY} matches no RPC of the workload`);
  const stats = new Map<string, RpcStats>(operations.map((op) => [op.rpc, newStats()]));
  process.stdout.write(`load: ${clients} clients for ${durationS} s on ${operations.length} RPCs\n`);
  const started = Date.now();
  const deadline = started + durationS * 1000;
  await Promise.all(Array.from({ length: clients }, () => runClient(operations, stats, deadline)));
  const seconds = (Date.now() - started) / 1000;
  // Every Send that succeeded is one webhook delivery: how far the deliveries lag behind the Sends.
  const sendStats = [...stats].find(([rpc]) => rpc.endsWith("NotificationService/Send"))?.[1];
  const sent = sendStats?.latencies.length ?? 0;
  const deliveredDuringMix = sink.received();
  const loginStats = newStats();
  for (let i = 0; i < logins; i++) await timed(login, loginStats);
  const drainStarted = Date.now();
  while (sink.received() < sent && Date.now() - drainStarted < DELIVERY_DRAIN_MS) await new Promise((resolve) => setTimeout(resolve, 50));
  const delivered = sink.received();
  const drainS = (Date.now() - started) / 1000 - seconds;

  const rows = operations.map((op) => summarize(op.rpc, stats.get(op.rpc)!));
  const loginRow = summarize(`${login.rpc} (apart)`, loginStats);
  const total = rows.reduce((sum, row) => sum + row.count, 0);
  const errors = rows.reduce((sum, row) => sum + row.errors, 0);
  const limited = rows.reduce((sum, row) => sum + row.limited, 0);
  const crashed = platform.crashed();

  const header = `  ${"rpc".padEnd(46)} ${"count".padStart(7)} ${"p50 ms".padStart(8)} ${"p99 ms".padStart(8)} ${"errors".padStart(7)} ${"limited".padStart(8)}`;
  const line = (r: ReturnType<typeof summarize>) => `  ${r.rpc.padEnd(46)} ${String(r.count).padStart(7)} ${ms(r.p50_ms).padStart(8)} ${ms(r.p99_ms).padStart(8)} ${String(r.errors).padStart(7)} ${String(r.limited).padStart(8)}`;
  process.stdout.write(
    `\nload: ${clients} clients, ${seconds.toFixed(1)} s, ${total} calls (${Math.round(total / seconds)}/s), ${errors} errors, ${limited} limited\n` +
      `  webhook deliveries: ${deliveredDuringMix} of ${sent} Sends arrived during the mix, ${delivered} of ${sent} within ${drainS.toFixed(1)} s after it\n${header}\n${rows.map(line).join("\n")}\n` +
      `  then Login, ${logins} one after another, timed apart from the mix:\n${line(loginRow)}\n`,
  );
  for (const row of [...rows, loginRow]) for (const sample of row.samples) process.stdout.write(`  ✖ ${row.rpc}: ${sample}\n`);
  for (const crash of crashed) process.stdout.write(`  ✖ ${crash}\n`);
  if (delivered < sent) process.stdout.write(`  ✖ ${sent - delivered} of ${sent} webhook deliveries had not arrived ${DELIVERY_DRAIN_MS / 1000} s after the mix\n`);

  const resultsDir = path.join(root, "bench", "results");
  mkdirSync(resultsDir, { recursive: true });
  writeFileSync(
    path.join(resultsDir, "load.json"),
    `${JSON.stringify({ name: "load", clients, durationS: seconds, calls: total, callsPerSecond: total / seconds, errors, limited, webhookDeliveries: { sent, deliveredDuringMix, delivered, drainSeconds: drainS }, rows, login: loginRow, crashed, at: new Date().toISOString() }, null, 2)}\n`,
  );
  if (errors + loginRow.errors > 0 || crashed.length > 0 || delivered < sent || (failOnLimited && limited + loginRow.limited > 0)) exitCode = 1;
  if (total === 0) exitCode = 1;
} catch (err) {
  process.stderr.write(`load: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  exitCode = 1;
} finally {
  sink.close();
  await platform.stop();
}
process.exit(exitCode);
