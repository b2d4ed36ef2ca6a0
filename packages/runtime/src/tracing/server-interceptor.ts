import type { Interceptor } from "@connectrpc/connect";
import { context, propagation, SpanKind, trace, type Tracer } from "@opentelemetry/api";
import { endWhenDone } from "../call-end";
import { endRpcSpan, protocolOf, rpcAttributes } from "./rpc-attributes";
import { headerGetter } from "./headers";

/**
 * A SERVER span per call, child of the caller's `traceparent` when it sent one, active while the
 * handler (and the interceptors inside this one) run, so logs, client calls, outbox writes and
 * database statements of the call join it. Ends when the response (or its stream) ends.
 */
export function serverTracingInterceptor(tracer: Tracer): Interceptor {
  return (next) => async (req) => {
    const parent = propagation.extract(context.active(), req.header, headerGetter);
    const protocol = protocolOf(req.header.get("content-type"));
    const span = tracer.startSpan(
      `${req.service.typeName}/${req.method.name}`,
      { kind: SpanKind.SERVER, attributes: rpcAttributes(req.service.typeName, req.method.name, protocol) },
      parent,
    );
    const active = trace.setSpan(parent, span);
    try {
      const res = await context.with(active, () => next(req));
      return endWhenDone(res, (err) => endRpcSpan(span, protocol, err));
    } catch (err) {
      endRpcSpan(span, protocol, err);
      throw err;
    }
  };
}
