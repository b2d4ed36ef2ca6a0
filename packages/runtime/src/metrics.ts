import type { DescMethod } from "@bufbuild/protobuf";
import { OutboxRelay } from "@cloudforet/events";
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics, register as processRegistry } from "prom-client";

export type MethodKind = DescMethod["methodKind"];

export interface RpcMetrics {
  registry: Registry;
  /** A call began (grpc_server_started_total); `method` is "pkg.Service/Method". */
  started(method: string, kind: MethodKind): void;
  /**
   * A call ended with `code` ("OK", "NOT_FOUND") after `seconds`. `kind` defaults to the one seen
   * for the method before (else unary). Unless `counted` says started() ran for it, the call is
   * counted as started too: the request gate refuses calls before the interceptors see them.
   */
  record(method: string, code: string, seconds: number, kind?: MethodKind, counted?: boolean): void;
}

const buckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** grpc_type as go-grpc-prometheus spells it, so the standard gRPC dashboards work unchanged. */
export const grpcType: Record<MethodKind, string> = {
  unary: "unary",
  client_streaming: "client_stream",
  server_streaming: "server_stream",
  bidi_streaming: "bidi_stream",
};

/**
 * A registry per service (several services share a process in the embedded mode, so each keeps
 * its own) with process metrics and, per RPC, both our series (cloudforet_rpc_requests_total and
 * cloudforet_rpc_duration_seconds by `method`, `code`) and the standard ones
 * (grpc_server_started_total, grpc_server_handled_total, grpc_server_handling_seconds by
 * `grpc_service`, `grpc_method`, `grpc_type`, `grpc_code`). Its exposition also carries the
 * process's shared series (see withProcessSeries).
 */
export function createRpcMetrics(service: string, registry: Registry = new ServiceRegistry()): RpcMetrics {
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });
  registerOutboxLag();
  const registers = [registry];
  const requests = new Counter({ name: "cloudforet_rpc_requests_total", help: "RPCs handled, by method and status code", labelNames: ["method", "code"], registers });
  const duration = new Histogram({
    name: "cloudforet_rpc_duration_seconds",
    help: "RPC handling time in seconds, by method and status code",
    labelNames: ["method", "code"],
    buckets,
    registers,
  });
  const grpcLabels = ["grpc_service", "grpc_method", "grpc_type"] as const;
  const startedTotal = new Counter({ name: "grpc_server_started_total", help: "RPCs started on the server.", labelNames: grpcLabels, registers });
  const handledTotal = new Counter({
    name: "grpc_server_handled_total",
    help: "RPCs completed on the server, regardless of success or failure.",
    labelNames: [...grpcLabels, "grpc_code"],
    registers,
  });
  const handling = new Histogram({
    name: "grpc_server_handling_seconds",
    help: "Response latency (seconds) of RPCs handled by the server.",
    labelNames: [...grpcLabels, "grpc_code"],
    buckets,
    registers,
  });
  const kinds = new Map<string, MethodKind>();
  // prom-client hashes the label object on every inc/observe; a call's (method, code) pair is one
  // of a few hundred, so its labelled children are looked up once and kept.
  const starts = new Map<string, () => void>();
  const children = new Map<string, (seconds: number) => void>();
  const labelsOf = (method: string, kind: MethodKind) => {
    const slash = method.lastIndexOf("/");
    return [method.slice(0, slash), method.slice(slash + 1), grpcType[kind]] as const;
  };
  const start = (method: string, kind: MethodKind) => {
    const key = `${method}\0${kind}`;
    let inc = starts.get(key);
    if (!inc) {
      const child = startedTotal.labels(...labelsOf(method, kind));
      inc = () => child.inc();
      starts.set(key, inc);
    }
    inc();
  };
  return {
    registry,
    started(method, kind) {
      kinds.set(method, kind);
      start(method, kind);
    },
    record(method, code, seconds, kind = kinds.get(method) ?? "unary", counted = false) {
      if (!counted) start(method, kind);
      const key = `${method}\0${code}\0${kind}`;
      let observe = children.get(key);
      if (!observe) {
        const count = requests.labels(method, code);
        const histogram = duration.labels(method, code);
        const labels = labelsOf(method, kind);
        const handled = handledTotal.labels(...labels, code);
        const latency = handling.labels(...labels, code);
        observe = (s) => {
          count.inc();
          histogram.observe(s);
          handled.inc();
          latency.observe(s);
        };
        children.set(key, observe);
      }
      observe(seconds);
    },
  };
}

/**
 * A service's registry whose exposition adds the process's shared series: prom-client's global
 * registry, where the code that runs below a service (resilience's breakers and client metrics,
 * the outbox relays) registers by default, so they reach /metrics without being handed a registry.
 * With one service per process (containers) that is exact; in the embedded mode every service's
 * /metrics repeats them. A name the service registry has itself wins (two TYPE lines of one name
 * would make the whole scrape invalid).
 */
class ServiceRegistry extends Registry {
  override async metrics(): Promise<string> {
    const own = await super.metrics();
    const shared = processRegistry.getMetricsAsArray().filter((m) => !this.getSingleMetric(m.name));
    const extra = await Promise.all(shared.map((m) => processRegistry.getSingleMetricAsString(m.name)));
    return [own.trimEnd(), ...extra.map((text) => text.trimEnd())].filter(Boolean).join("\n\n") + "\n";
  }
}

/** Outbox backlog of every running relay of the process, read from its table when scraped. */
function registerOutboxLag(): void {
  if (processRegistry.getSingleMetric("cloudforet_outbox_pending")) return;
  let lags: Promise<Map<string, { pending: number; oldestAgeSeconds: number }>> | undefined;
  // Both gauges collect in one scrape: the relays are asked once for the two of them.
  const read = () =>
    (lags ??= (async () => {
      const out = new Map<string, { pending: number; oldestAgeSeconds: number }>();
      for (const relay of OutboxRelay.running()) {
        const lag = await relay.lag();
        if (lag) out.set(relay.name, lag);
      }
      return out;
    })().finally(() => setImmediate(() => (lags = undefined))));
  new Gauge({
    name: "cloudforet_outbox_pending",
    help: "Outbox rows not yet published to the bus, per outbox table.",
    labelNames: ["outbox"],
    async collect() {
      this.reset();
      for (const [outbox, lag] of await read()) this.set({ outbox }, lag.pending);
    },
  });
  new Gauge({
    name: "cloudforet_outbox_oldest_age_seconds",
    help: "Age of the oldest unpublished outbox row (0 when none), per outbox table.",
    labelNames: ["outbox"],
    async collect() {
      this.reset();
      for (const [outbox, lag] of await read()) this.set({ outbox }, lag.oldestAgeSeconds);
    },
  });
}
