import type http from "node:http";
import { and, asc, eq, gt } from "drizzle-orm";
import type { Database } from "@cloudforet/db";
import { invalidParameter, serviceUnavailable } from "@cloudforet/errors";
import type { Logger } from "pino";
import { blockOutputs, instances, type InstanceRow } from "../db/schema";
import { outputJson } from "../instances/rest";
import { TERMINAL_STATES, type InstanceState } from "../instances/rules";

/** How an instance's event stream polls and keeps the connection alive. */
export interface StreamSettings {
  /** Poll interval, 100–5000 ms (the engine's `poll_ms`, default 500). */
  pollMs: number;
  /** A `: keepalive` comment after this long without an event, 1000–60000 ms (default 15000). */
  heartbeatMs: number;
}

/** Open streams per process at the most; more is 503 / ERROR_SERVICE_UNAVAILABLE (the engine's stream limiter). */
const MAX_STREAMS = 1_000;

function bounded(value: string | null, parameter: string, fallback: number, min: number, max: number): number {
  if (value === null || value === "") return fallback;
  const n = Number(value);
  if (!Number.isInteger(n)) throw invalidParameter(`${parameter} must be an integer (milliseconds)`, { parameter, value: value.slice(0, 64) });
  return Math.min(max, Math.max(min, n)); // clamped, as the engine clamps poll_ms
}

/** `poll_ms` and `heartbeat_ms` of the query, validated. */
export function streamSettingsOf(query: URLSearchParams): StreamSettings {
  return {
    pollMs: bounded(query.get("poll_ms"), "poll_ms", 500, 100, 5_000),
    heartbeatMs: bounded(query.get("heartbeat_ms"), "heartbeat_ms", 15_000, 1_000, 60_000),
  };
}

/**
 * Server-Sent Events of one instance (the engine's `GET /instances/{id}/stream`): `state`
 * `{instance_id, state}` whenever the state changes (first the current one), `output` with each
 * new BlockOutput (the `GET /instances/{id}/outputs` shape, in the order they were stored), and
 * `done` `{state}` once the instance is terminal, which ends the stream. Comments keep idle
 * connections alive. The stream ends when the client leaves or the service shuts down.
 */
export class EventStreams {
  private readonly open = new Set<AbortController>();

  constructor(
    private readonly db: Database,
    private readonly logger: Logger,
  ) {}

  /** The streaming answer for an instance already checked to be the caller's. */
  respond(instance: InstanceRow, settings: StreamSettings, clientGone: AbortSignal): (res: http.ServerResponse) => Promise<void> {
    if (this.open.size >= MAX_STREAMS) throw serviceUnavailable("too many concurrent streaming clients; retry later", { limit: String(MAX_STREAMS) });
    return async (res) => {
      const stop = new AbortController();
      this.open.add(stop);
      const signal = AbortSignal.any([stop.signal, clientGone]);
      res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache", connection: "keep-alive", "x-accel-buffering": "no" });
      res.flushHeaders();
      this.logger.debug({ instance_id: instance.id }, "instance event stream opened");
      try {
        await this.pump(instance.id, settings, signal, res);
      } finally {
        this.open.delete(stop);
        if (!res.writableEnded) res.end();
        this.logger.debug({ instance_id: instance.id }, "instance event stream closed");
      }
    };
  }

  private async pump(id: string, settings: StreamSettings, signal: AbortSignal, res: http.ServerResponse): Promise<void> {
    let lastState: string | undefined;
    let lastSeq = 0;
    let lastWrite = Date.now();
    let failures = 0;
    const send = (event: string, data: unknown) => {
      res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
      lastWrite = Date.now();
    };
    while (!signal.aborted && !res.destroyed) {
      try {
        const [row] = await this.db.select({ state: instances.state }).from(instances).where(eq(instances.id, id));
        if (!row) {
          send("error", { error: "instance not found" });
          return;
        }
        if (row.state !== lastState) {
          send("state", { instance_id: id, state: row.state });
          lastState = row.state;
        }
        const outputs = await this.db
          .select()
          .from(blockOutputs)
          .where(and(eq(blockOutputs.instanceId, id), gt(blockOutputs.seq, lastSeq)))
          .orderBy(asc(blockOutputs.seq))
          .limit(500);
        for (const output of outputs) {
          send("output", outputJson(output));
          lastSeq = output.seq;
        }
        failures = 0;
        // Terminal and every output sent (a full page may have more): the stream is complete.
        if (TERMINAL_STATES.includes(row.state as InstanceState) && outputs.length < 500) {
          send("done", { state: row.state });
          return;
        }
      } catch (err) {
        failures += 1;
        this.logger.warn({ err, instance_id: id, failures }, "instance event stream could not read the instance; retrying");
      }
      if (Date.now() - lastWrite >= settings.heartbeatMs) {
        res.write(": keepalive\n\n");
        lastWrite = Date.now();
      }
      // After read failures, back off (doubling, up to 30 s) on top of the poll interval.
      const wait = Math.min(settings.heartbeatMs, settings.pollMs * 2 ** Math.min(failures, 6), 30_000);
      await sleep(wait, signal);
    }
  }

  /** Ends every open stream (shutdown): clients see the connection close and may reconnect elsewhere. */
  close(): void {
    for (const stream of this.open) stream.abort();
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}
