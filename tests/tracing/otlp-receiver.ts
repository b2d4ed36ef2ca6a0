// A real OTLP/HTTP trace receiver for tests: accepts POST /v1/traces (protobuf, optionally gzip),
// decodes the ExportTraceServiceRequest fields a trace check needs with a minimal protobuf reader,
// and keeps the spans. Field numbers are those of opentelemetry/proto/{collector/trace,trace,common,resource}/v1.
import { createServer, type Server } from "node:http";
import { gunzipSync } from "node:zlib";
import { BinaryReader, WireType } from "@bufbuild/protobuf/wire";

export const SpanKind = { INTERNAL: 1, SERVER: 2, CLIENT: 3, PRODUCER: 4, CONSUMER: 5 } as const;

export interface ReceivedSpan {
  service: string;
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  kind: number;
  attributes: Record<string, string | number | boolean>;
}

export interface OtlpReceiver {
  url: string;
  spans: ReceivedSpan[];
  requests: number;
  close(): Promise<void>;
}

export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const received: OtlpReceiver = { url: "", spans: [], requests: 0, close: async () => {} };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      try {
        if (req.method !== "POST" || req.url !== "/v1/traces") throw new Error(`unexpected ${req.method} ${req.url}`);
        if (!String(req.headers["content-type"]).startsWith("application/x-protobuf")) throw new Error(`content-type ${req.headers["content-type"]}`);
        let body = Buffer.concat(chunks);
        if (req.headers["content-encoding"] === "gzip") body = gunzipSync(body);
        received.spans.push(...decodeExportTraceServiceRequest(body));
        received.requests += 1;
        // An empty ExportTraceServiceResponse: full success.
        res.writeHead(200, { "content-type": "application/x-protobuf" }).end();
      } catch (err) {
        res.writeHead(400).end(String(err));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address() as { port: number };
  received.url = `http://127.0.0.1:${address.port}`;
  received.close = () => new Promise((resolve) => server.close(() => resolve()));
  return received;
}

/** Calls `field` for each field of the message in `bytes`; skips what it does not read. */
function fields(bytes: Uint8Array, field: (no: number, reader: BinaryReader, wireType: WireType) => boolean): void {
  const reader = new BinaryReader(bytes);
  while (reader.pos < reader.len) {
    const [no, wireType] = reader.tag();
    if (!field(no, reader, wireType)) reader.skip(wireType, no);
  }
}

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");

function decodeExportTraceServiceRequest(bytes: Uint8Array): ReceivedSpan[] {
  const spans: ReceivedSpan[] = [];
  // ExportTraceServiceRequest.resource_spans = 1
  fields(bytes, (no, r) => {
    if (no !== 1) return false;
    const resourceSpans = r.bytes();
    let service = "";
    const scopeSpans: Uint8Array[] = [];
    // ResourceSpans: resource = 1, scope_spans = 2
    fields(resourceSpans, (n, rr) => {
      if (n === 1) {
        service = String(attributesOf(rr.bytes(), 1)["service.name"] ?? "");
        return true;
      }
      if (n === 2) return scopeSpans.push(rr.bytes()) > 0;
      return false;
    });
    for (const scope of scopeSpans) {
      // ScopeSpans.spans = 2
      fields(scope, (n, rr) => (n === 2 ? spans.push(decodeSpan(rr.bytes(), service)) > 0 : false));
    }
    return true;
  });
  return spans;
}

function decodeSpan(bytes: Uint8Array, service: string): ReceivedSpan {
  const span: ReceivedSpan = { service, traceId: "", spanId: "", parentSpanId: "", name: "", kind: 0, attributes: {} };
  // Span: trace_id 1, span_id 2, parent_span_id 4, name 5, kind 6, attributes 9
  fields(bytes, (n, r) => {
    if (n === 1) span.traceId = hex(r.bytes());
    else if (n === 2) span.spanId = hex(r.bytes());
    else if (n === 4) span.parentSpanId = hex(r.bytes());
    else if (n === 5) span.name = r.string();
    else if (n === 6) span.kind = r.int32();
    else if (n === 9) Object.assign(span.attributes, keyValue(r.bytes()));
    else return false;
    return true;
  });
  return span;
}

/** The attributes (repeated KeyValue at `field`) of a message such as Resource. */
function attributesOf(bytes: Uint8Array, field: number): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  fields(bytes, (n, r) => (n === field ? Object.assign(out, keyValue(r.bytes())) !== undefined : false));
  return out;
}

/** KeyValue { key = 1; AnyValue value = 2 } with AnyValue { string 1; bool 2; int 3; double 4 }. */
function keyValue(bytes: Uint8Array): Record<string, string | number | boolean> {
  let key = "";
  let value: string | number | boolean = "";
  fields(bytes, (n, r) => {
    if (n === 1) key = r.string();
    else if (n === 2)
      fields(r.bytes(), (m, v) => {
        if (m === 1) value = v.string();
        else if (m === 2) value = v.bool();
        else if (m === 3) value = Number(v.int64());
        else if (m === 4) value = v.double();
        else return false;
        return true;
      });
    else return false;
    return true;
  });
  return { [key]: value };
}
