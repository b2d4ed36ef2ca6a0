import { ErrorCode } from "@cloudforet/errors";
import { categorize, ErrorCategory, shouldRetry } from "@cloudforet/resilience";
import type { Logger } from "pino";
import type { PrismConnection } from "./connection";
import { httpRequest } from "./http-request";
import { PrismBreaker, type BreakerState, type PrismBreakerOptions } from "./prism-breaker";
import { PrismError, prismHttpError, prismTransportError } from "./prism-error";
import type { V1ListResponse, V1VmStats, V3Cluster, V3Kind, V3ListResponse, V3Subnet, V3Vm } from "./types";

export interface PrismClientOptions {
  logger: Logger;
  /** Entities per list call (Prism caps v3 lists at 500). Default 500. */
  pageSize?: number;
  /** Per HTTP call. Default 30 000 ms. */
  timeoutMs?: number;
  /** Seed 000 pattern 1: attempts in all (default 3), first backoff (default 1000 ms, doubled), cap (default 10 000 ms). */
  retry?: { maxAttempts?: number; baseDelayMs?: number; maxDelayMs?: number };
  /** Seed 000 pattern 3: a breaker shared with other clients of the same Prism, or options for one of its own. */
  breaker?: PrismBreaker | PrismBreakerOptions;
  signal?: AbortSignal;
}

export type { BreakerState };

const V3_PATH: Record<V3Kind, string> = { vm: "/api/nutanix/v3/vms/list", cluster: "/api/nutanix/v3/clusters/list", subnet: "/api/nutanix/v3/subnets/list" };
const V1_VMS_PATH = "/PrismGateway/services/rest/v1/vms";

/**
 * Prism Central v3 over HTTP basic auth. Every call goes through a circuit breaker (opossum) and
 * is retried with exponential backoff and full jitter when its category is worth retrying; the
 * retry sits outside the breaker, so the breaker counts every attempt and, once open, ends the
 * retries at once with a fail-fast SERVICE_UNAVAILABLE naming the last upstream failure.
 */
export class PrismClient {
  private readonly breaker: PrismBreaker;
  private readonly ownsBreaker: boolean;
  private readonly authorization: string;
  private readonly logger: Logger;
  private readonly pageSize: number;
  private readonly timeoutMs: number;
  private readonly retry: Required<NonNullable<PrismClientOptions["retry"]>>;
  /** Calls made to Prism (attempts, not logical calls), for tests and logs. */
  attempts = 0;

  constructor(
    private readonly connection: PrismConnection,
    private readonly options: PrismClientOptions,
  ) {
    this.logger = options.logger.child({ upstream: "nutanix-prism", prism: connection.baseUrl });
    this.authorization = `Basic ${Buffer.from(`${connection.username}:${connection.password}`).toString("base64")}`;
    this.pageSize = Math.min(500, Math.max(1, options.pageSize ?? 500));
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.retry = { maxAttempts: 3, baseDelayMs: 1000, maxDelayMs: 10_000, ...options.retry };
    this.ownsBreaker = !(options.breaker instanceof PrismBreaker);
    this.breaker = options.breaker instanceof PrismBreaker ? options.breaker : new PrismBreaker(this.logger, options.breaker);
  }

  get breakerState(): BreakerState {
    return this.breaker.state;
  }

  /** Stops the breaker's timer, unless the breaker was given (shared). */
  close(): void {
    if (this.ownsBreaker) this.breaker.shutdown();
  }

  /** One cheap authenticated call: logs in and proves Prism answers. */
  async verify(): Promise<void> {
    await this.listPage("cluster", 0, 1);
  }

  async listVms(): Promise<V3Vm[]> {
    return this.listAll<V3Vm>("vm");
  }

  async listClusters(): Promise<V3Cluster[]> {
    return this.listAll<V3Cluster>("cluster");
  }

  async listSubnets(): Promise<V3Subnet[]> {
    return this.listAll<V3Subnet>("subnet");
  }

  /** Pages through `POST /api/nutanix/v3/<kind>s/list` by offset until total_matches is reached. */
  async listAll<E>(kind: V3Kind, onPage?: (seen: number, total: number) => void): Promise<E[]> {
    const all: E[] = [];
    for (let offset = 0; ; ) {
      const page = await this.listPage<E>(kind, offset, this.pageSize);
      all.push(...page.entities);
      offset += page.entities.length;
      onPage?.(offset, page.metadata.total_matches);
      if (page.entities.length === 0 || offset >= page.metadata.total_matches) return all;
    }
  }

  async listPage<E>(kind: V3Kind, offset: number, length: number): Promise<V3ListResponse<E>> {
    const path = V3_PATH[kind];
    const answer = await this.call<V3ListResponse<E>>("POST", path, { kind, offset, length });
    if (!answer || !Array.isArray(answer.entities) || typeof answer.metadata?.total_matches !== "number") {
      throw new PrismError(ErrorCode.UNKNOWN, ErrorCategory.SERVER, `Prism ${path} answered without metadata.total_matches/entities`, { path });
    }
    return answer;
  }

  /** CPU and memory usage per VM uuid, from the v1 stats API (v3 has none), paged by `page`/`count`. */
  async vmStats(): Promise<Map<string, V1VmStats["stats"]>> {
    const stats = new Map<string, V1VmStats["stats"]>();
    for (let page = 1; ; page++) {
      const answer = await this.call<V1ListResponse<V1VmStats>>("GET", `${V1_VMS_PATH}?count=${this.pageSize}&page=${page}`);
      for (const vm of answer.entities ?? []) stats.set(vm.uuid, vm.stats ?? {});
      if ((answer.entities ?? []).length === 0 || stats.size >= answer.metadata.grandTotalEntities) return stats;
    }
  }

  private async call<T>(method: "GET" | "POST", path: string, body?: unknown): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return (await this.breaker.fire(() => this.send(method, path, body), path)) as T;
      } catch (err) {
        // The attempt that opened the circuit reports the open circuit, which says why it opened.
        const failure = this.breaker.isOpen ? this.breaker.openError(path, err) : prismTransportError(err, path, false);
        const retryable = shouldRetry(categorize(failure)) && !this.breaker.isOpen;
        if (attempt >= this.retry.maxAttempts || !retryable || this.options.signal?.aborted) throw failure;
        const delay = Math.random() * Math.min(this.retry.maxDelayMs, this.retry.baseDelayMs * 2 ** (attempt - 1));
        this.logger.warn({ path, attempt, delay_ms: Math.round(delay), category: failure.category, error_code: failure.code, http_status: failure.httpStatus }, "Prism call failed; retrying");
        await sleep(delay, this.options.signal);
      }
    }
  }

  private async send(method: "GET" | "POST", path: string, body?: unknown): Promise<unknown> {
    this.attempts += 1;
    const url = new URL(path, this.connection.baseUrl);
    let answer;
    try {
      answer = await httpRequest(
        {
          method,
          url,
          headers: { authorization: this.authorization, accept: "application/json", ...(body === undefined ? {} : { "content-type": "application/json" }) },
          body: body === undefined ? undefined : JSON.stringify(body),
          timeoutMs: this.timeoutMs,
          signal: this.options.signal,
        },
        this.connection.verifySsl,
      );
    } catch (err) {
      throw prismTransportError(err, url.pathname, (err as { timedOut?: boolean }).timedOut === true);
    }
    if (answer.status < 200 || answer.status >= 300) throw prismHttpError(answer.status, url.pathname, answer.body);
    try {
      return JSON.parse(answer.body);
    } catch (err) {
      throw new PrismError(ErrorCode.UNKNOWN, ErrorCategory.SERVER, `Prism ${url.pathname} answered with a body that is not JSON`, { path: url.pathname, cause: err });
    }
  }

}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
