import { invalidParameter, payloadTooLarge, PlatformError } from "@cloudforet/errors";
import { sendTaxonomyError, type Caller, type HttpHandler, type HttpRequest, type HttpResponse } from "@cloudforet/runtime";
import type { Logger } from "pino";
import snappy from "snappyjs";
import type { TimeWindow } from "../metrics/metrics";
import { writeWorkspace } from "../metrics/metrics";
import type { MetricRepository } from "../metrics/repository";
import { isApiKey, type ApiKeyLogin } from "./api-key-login";
import { MAX_SAMPLES_PER_WRITE, remoteWriteKey, samplesOf } from "./remote-write";
import { decodeWriteRequest, MalformedWriteRequest } from "./write-request";

export const REMOTE_WRITE_PATH = "/api/v1/write";

export interface RemoteWriteDeps {
  metrics: MetricRepository;
  /** Verifies an `Authorization` header value (the service host's token verifier). */
  authenticate(authorization: string | null | undefined): Promise<Caller>;
  apiKeys: ApiKeyLogin;
  window(): TimeWindow;
  /** Largest compressed body (the service's CLOUDFORET_MAX_REQUEST_BYTES). */
  maxBodyBytes: number;
  /** The ErrorInfo domain of error bodies. */
  domain: string;
  logger: Logger;
}

/** Decompressed bodies may be this many times the compressed limit (snappy rarely exceeds 5×). */
const MAX_EXPANSION = 8;

/**
 * `POST /api/v1/write`: Prometheus remote write 1.0 (snappy-compressed protobuf WriteRequest).
 * 204 when stored (or already stored: the same body again stores nothing), 400 for a body that is
 * not a WriteRequest or holds refused samples (Prometheus does not retry 4xx; the valid samples of
 * such a body are stored), 401/403 for credentials, 413 for an oversized body, 5xx (retried by
 * Prometheus) when the database fails.
 */
export function remoteWriteRoute(deps: RemoteWriteDeps): HttpHandler {
  return async (req, res) => {
    const path = (req.url ?? "").split("?")[0];
    if (path !== REMOTE_WRITE_PATH) return false;
    if (req.method !== "POST") {
      res.writeHead(405, { allow: "POST", "content-length": 0 });
      res.end();
      return true;
    }
    try {
      await handleWrite(deps, req, res);
    } catch (err) {
      if (!(err instanceof PlatformError)) throw err; // the server logs it and answers 500: Prometheus retries
      if (!res.headersSent) sendTaxonomyError(res, err, deps.domain);
    }
    return true;
  };
}

async function handleWrite(deps: RemoteWriteDeps, req: HttpRequest, res: HttpResponse): Promise<void> {
  const caller = await authenticate(deps, req);
  const workspaceId = writeWorkspace(caller, header(req, "x-cloudforet-workspace-id"));
  const encoding = header(req, "content-encoding").toLowerCase();
  if (encoding && encoding !== "snappy") throw invalidParameter("Content-Encoding must be snappy", { parameter: "content-encoding", value: encoding });
  const contentType = header(req, "content-type").split(";")[0].trim().toLowerCase();
  if (contentType && contentType !== "application/x-protobuf") {
    throw invalidParameter("Content-Type must be application/x-protobuf", { parameter: "content-type", value: contentType });
  }
  const compressed = await readBody(req, deps.maxBodyBytes);
  let body: Uint8Array;
  try {
    body = snappy.uncompress(compressed, deps.maxBodyBytes * MAX_EXPANSION);
  } catch (err) {
    throw invalidParameter(`the body is not snappy block-compressed: ${(err as Error).message}`, { parameter: "body" });
  }
  let timeseries;
  try {
    ({ timeseries } = decodeWriteRequest(body));
  } catch (err) {
    if (err instanceof MalformedWriteRequest) throw invalidParameter(err.message, { parameter: "body" });
    throw err;
  }
  const sampleCount = timeseries.reduce((n, series) => n + series.samples.length, 0);
  if (sampleCount > MAX_SAMPLES_PER_WRITE) throw payloadTooLarge(`A write holds at most ${MAX_SAMPLES_PER_WRITE} samples`, { parameter: "body", value: sampleCount });
  const mapped = samplesOf(timeseries, deps.window());
  const key = remoteWriteKey(workspaceId, body);
  const outcome = await deps.metrics.insertOnce(caller.domainId, workspaceId, mapped.samples, key, { created_count: mapped.samples.length });
  deps.logger.info(
    { domain_id: caller.domainId, workspace_id: workspaceId, series: timeseries.length, stored: outcome.stored ? mapped.samples.length : 0, refused: mapped.refused, stale: mapped.stale, repeated: !outcome.stored },
    "remote write",
  );
  if (mapped.firstProblem) {
    const { parameter, message, metricName } = mapped.firstProblem;
    throw invalidParameter(`${mapped.refused} of ${sampleCount} samples refused; first (${metricName || "no __name__"}): ${message}`, { parameter, metric_name: metricName });
  }
  res.writeHead(204);
  res.end();
}

/** A token, or an API key with the X-Cloudforet-Domain-Id / X-Cloudforet-User-Id headers naming its owner. */
async function authenticate(deps: RemoteWriteDeps, req: HttpRequest): Promise<Caller> {
  const authorization = header(req, "authorization");
  const credential = /^Bearer\s+(\S+)$/i.exec(authorization)?.[1] ?? "";
  if (isApiKey(credential)) {
    const token = await deps.apiKeys.token(header(req, "x-cloudforet-domain-id"), header(req, "x-cloudforet-user-id"), credential);
    return deps.authenticate(`Bearer ${token}`);
  }
  return deps.authenticate(authorization);
}

function header(req: HttpRequest, name: string): string {
  const value = req.headers[name];
  return (Array.isArray(value) ? value[0] : value) ?? "";
}

async function readBody(req: HttpRequest, maxBytes: number): Promise<Uint8Array> {
  const declared = Number(header(req, "content-length"));
  if (declared > maxBytes) throw payloadTooLarge(`The body is larger than ${maxBytes} bytes`, { parameter: "body", value: declared });
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) throw payloadTooLarge(`The body is larger than ${maxBytes} bytes`, { parameter: "body" });
    chunks.push(chunk);
  }
  if (size === 0) throw invalidParameter("the body is empty", { parameter: "body" });
  return Buffer.concat(chunks, size);
}
