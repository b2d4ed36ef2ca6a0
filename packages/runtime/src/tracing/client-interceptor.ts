import type { Interceptor } from "@connectrpc/connect";
import { context, propagation, SpanKind, trace, type Tracer } from "@opentelemetry/api";
import { headerSetter } from "./headers";
import { endWhenDone } from "../call-end";
import { endRpcSpan, rpcAttributes } from "./rpc-attributes";

/**
 * A CLIENT span per outgoing call, child of the active span (the server span of the request being
 * served, or an event's consumer span), with `traceparent` injected into the request headers so
 * the upstream's server span continues the trace. Placed outermost in a client, it is one span per
 * logical call: retries and breaker refusals happen inside it.
 */
export function clientTracingInterceptor(tracer: Tracer, protocol: "grpc" | "connect_rpc"): Interceptor {
  return (next) => async (req) => {
    const span = tracer.startSpan(`${req.service.typeName}/${req.method.name}`, {
      kind: SpanKind.CLIENT,
      attributes: { ...rpcAttributes(req.service.typeName, req.method.name, protocol), "server.address": hostOf(req.url) },
    });
    const active = trace.setSpan(context.active(), span);
    propagation.inject(active, req.header, headerSetter);
    try {
      const res = await context.with(active, () => next(req));
      return endWhenDone(res, (err) => endRpcSpan(span, protocol, err));
    } catch (err) {
      endRpcSpan(span, protocol, err);
      throw err;
    }
  };
}

function hostOf(url: string): string {
  try {
    return new URL(url).hostname;
  } catch {
    return "";
  }
}
