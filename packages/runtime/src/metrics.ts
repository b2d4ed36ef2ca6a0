import { Counter, Histogram, Registry, collectDefaultMetrics } from "prom-client";

export interface RpcMetrics {
  registry: Registry;
  record(method: string, code: string, seconds: number): void;
}

/**
 * A registry per service (several services share a process in the embedded mode, so each
 * keeps its own) with the per-RPC count, latency and error code, plus process metrics.
 */
export function createRpcMetrics(service: string, registry = new Registry()): RpcMetrics {
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });
  const requests = new Counter({
    name: "cloudforet_rpc_requests_total",
    help: "RPCs handled, by method and status code",
    labelNames: ["method", "code"],
    registers: [registry],
  });
  const duration = new Histogram({
    name: "cloudforet_rpc_duration_seconds",
    help: "RPC handling time in seconds, by method and status code",
    labelNames: ["method", "code"],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  return {
    registry,
    record(method, code, seconds) {
      requests.inc({ method, code });
      duration.observe({ method, code }, seconds);
    },
  };
}
