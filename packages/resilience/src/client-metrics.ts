import { ConnectError, type Interceptor } from "@connectrpc/connect";
import { Counter, Histogram, register as globalRegistry, type Registry } from "prom-client";
import { grpcCodeName } from "./retry";

/** grpc_type as go-grpc-prometheus spells it, so the standard gRPC dashboards work unchanged. */
const grpcType = { unary: "unary", client_streaming: "client_stream", server_streaming: "server_stream", bidi_streaming: "bidi_stream" } as const;

interface ClientSeries {
  started: Counter;
  handled: Counter;
  handling: Histogram;
}

/** prom-client refuses a second metric of one name, so every client of a registry shares its series. */
const seriesByRegistry = new WeakMap<Registry, ClientSeries>();

function seriesOf(registry: Registry): ClientSeries {
  let series = seriesByRegistry.get(registry);
  if (series) return series;
  const labelNames = ["grpc_service", "grpc_method", "grpc_type"];
  const registers = [registry];
  series = {
    started: (registry.getSingleMetric("grpc_client_started_total") as Counter | undefined) ??
      new Counter({ name: "grpc_client_started_total", help: "RPCs started by the client.", labelNames, registers }),
    handled: (registry.getSingleMetric("grpc_client_handled_total") as Counter | undefined) ??
      new Counter({ name: "grpc_client_handled_total", help: "RPCs completed by the client, regardless of success or failure.", labelNames: [...labelNames, "grpc_code"], registers }),
    handling: (registry.getSingleMetric("grpc_client_handling_seconds") as Histogram | undefined) ??
      new Histogram({
        name: "grpc_client_handling_seconds",
        help: "Response latency (seconds) of RPCs until the client has the answer.",
        labelNames: [...labelNames, "grpc_code"],
        buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
        registers,
      }),
  };
  seriesByRegistry.set(registry, series);
  return series;
}

/**
 * grpc_client_started_total, grpc_client_handled_total and grpc_client_handling_seconds, per
 * logical call: installed outside the retries, a call retried twice counts once, with its final
 * code and its whole duration (backoff included), which is what its caller waited.
 */
export function clientMetricsInterceptor(registry: Registry = globalRegistry): Interceptor {
  const series = seriesOf(registry);
  return (next) => async (req) => {
    const labels = { grpc_service: req.service.typeName, grpc_method: req.method.name, grpc_type: grpcType[req.method.methodKind] };
    series.started.inc(labels);
    const started = process.hrtime.bigint();
    const finish = (err?: unknown) => {
      const done = { ...labels, grpc_code: err === undefined ? "OK" : grpcCodeName(ConnectError.from(err).code) };
      series.handled.inc(done);
      series.handling.observe(done, Number(process.hrtime.bigint() - started) / 1e9);
    };
    try {
      const res = await next(req);
      if (!res.stream) {
        finish();
        return res;
      }
      return { ...res, message: observeStream(res.message, finish) };
    } catch (err) {
      finish(err);
      throw err;
    }
  };
}

// The runtime's endWhenDone (packages/runtime/src/call-end.ts) does the same for servers; a
// client-side package cannot import the runtime, so this small copy stays.
async function* observeStream<T>(messages: AsyncIterable<T>, finish: (err?: unknown) => void): AsyncIterable<T> {
  let failure: unknown;
  try {
    yield* messages;
  } catch (err) {
    failure = err;
    throw err;
  } finally {
    finish(failure);
  }
}
