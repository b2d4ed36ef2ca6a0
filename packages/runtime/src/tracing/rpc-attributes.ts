import { Code, ConnectError } from "@connectrpc/connect";
import { codeName } from "../observability";
import { SpanStatusCode, type Attributes, type Span } from "@opentelemetry/api";

/**
 * RPC semantic-convention attributes of a call (rpc.system, rpc.service, rpc.method). The names
 * are written out: they are the spec's, and the semconv package moves them between entry points.
 * `protocol` is the wire protocol actually spoken: gRPC (and gRPC-Web) report rpc.grpc.status_code.
 */
export function rpcAttributes(service: string, method: string, protocol: "grpc" | "connect_rpc"): Attributes {
  return { "rpc.system": protocol, "rpc.service": service, "rpc.method": method };
}

/** "grpc" for gRPC and gRPC-Web requests (by their content type), "connect_rpc" for Connect. */
export function protocolOf(contentType: string | null): "grpc" | "connect_rpc" {
  return contentType?.startsWith("application/grpc") ? "grpc" : "connect_rpc";
}

/** Marks how the call ended: the gRPC status code, and an ERROR status with the message when it failed. */
export function endRpcSpan(span: Span, protocol: "grpc" | "connect_rpc", err?: unknown): void {
  const code: number = err === undefined ? 0 : ConnectError.from(err).code; // 0 is OK: Connect has no Code.Ok
  if (protocol === "grpc") span.setAttribute("rpc.grpc.status_code", code);
  else if (err !== undefined) span.setAttribute("rpc.connect_rpc.error_code", codeName(code).toLowerCase());
  if (err !== undefined) {
    span.setAttribute("error.type", Code[code] ?? String(code));
    span.setStatus({ code: SpanStatusCode.ERROR, message: ConnectError.from(err).rawMessage });
  }
  span.end();
}
