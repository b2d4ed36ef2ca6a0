import type { Interceptor, StreamResponse, UnaryResponse } from "@connectrpc/connect";
import { ErrorCode, PlatformError, toConnectError } from "@cloudforet/errors";
import CircuitBreaker from "opossum";
import type { Logger } from "pino";
import { Gauge, register as globalRegistry, type Registry } from "prom-client";
import { categorize, ErrorCategory } from "./categorize";
import { defaultLogger } from "./default-logger";
import { isRefusedStream } from "./replaceable-session";

export type CircuitState = "closed" | "half-open" | "open";

export interface CircuitBreakerOptions {
  /**
   * Consecutive TRANSIENT/SERVER failures that open the circuit (seed 000, pattern 3).
   * Default 5. Not used when `errorThresholdPercentage` is set.
   */
  failureThreshold?: number;
  /** Open instead when more than this percentage of the calls in the rolling window failed. */
  errorThresholdPercentage?: number;
  /** With `errorThresholdPercentage`: calls in the window before the percentage counts. Default 10. */
  volumeThreshold?: number;
  /** The rolling statistics window. Default 10 000 ms. */
  rollingWindowMs?: number;
  /** How long the circuit stays open before one probe call is let through. Default 30 000 ms. */
  resetTimeoutMs?: number;
  logger?: Logger;
  /** Where the state gauge is registered. Default: prom-client's global registry. */
  registry?: Registry;
}

export interface UpstreamCircuitBreaker {
  readonly upstream: string;
  readonly state: CircuitState;
  /** Install on every client of this upstream so they share one circuit. */
  readonly interceptor: Interceptor;
  /** Stops the breaker's timers; calls through it fail afterwards. */
  shutdown(): void;
}

export const CIRCUIT_BREAKER_STATE_METRIC = "cloudforet_circuit_breaker_state";

/** The `state` label's values: one 1/0 series each, so `{state="open"} == 1` finds the open circuits. */
const stateLabels: Record<CircuitState, string> = { closed: "closed", "half-open": "half_open", open: "open" };

type Response = UnaryResponse | StreamResponse;

/**
 * One circuit per upstream, on opossum. Only TRANSIENT and SERVER errors count as
 * failures; the rest (a NOT_FOUND, a bad argument) pass through as answers from a
 * healthy peer. While open, calls fail fast with UNAVAILABLE / ERROR_SERVICE_UNAVAILABLE,
 * naming the upstream, with a RetryInfo of the time left until the next probe.
 */
export function createCircuitBreaker(upstream: string, options: CircuitBreakerOptions = {}): UpstreamCircuitBreaker {
  const logger = options.logger ?? defaultLogger();
  const resetTimeoutMs = options.resetTimeoutMs ?? 30_000;
  const byPercentage = options.errorThresholdPercentage !== undefined;
  const failureThreshold = options.failureThreshold ?? 5;

  const breaker = new CircuitBreaker<[() => Promise<Response>], Response>((call) => call(), {
    name: upstream,
    timeout: false, // deadlines belong to the call (timeoutMs), not to the breaker
    resetTimeout: resetTimeoutMs,
    rollingCountTimeout: options.rollingWindowMs ?? 10_000,
    // opossum opens only when the rate is *above* the percentage, so 100 leaves opening to the counter below.
    errorThresholdPercentage: byPercentage ? options.errorThresholdPercentage : 100,
    volumeThreshold: byPercentage ? (options.volumeThreshold ?? 10) : 0,
    errorFilter: (err) => !countsAsFailure(err),
  });

  let consecutiveFailures = 0;
  let openedAt = 0;
  let state: CircuitState = "closed";
  const gauge = stateGauge(options.registry ?? globalRegistry);
  setState(gauge, upstream, "closed");

  const transition = (next: CircuitState) => {
    const previous = state;
    state = next;
    setState(gauge, upstream, next);
    const log = next === "closed" ? logger.info.bind(logger) : logger.warn.bind(logger);
    log({ upstream, state: next, previous_state: previous }, `circuit breaker ${next}`);
  };

  breaker.on("failure", () => {
    consecutiveFailures += 1;
    if (!byPercentage && consecutiveFailures >= failureThreshold) breaker.open();
  });
  breaker.on("success", () => {
    consecutiveFailures = 0;
  });
  breaker.on("open", () => {
    consecutiveFailures = 0;
    openedAt = Date.now();
    transition("open");
  });
  breaker.on("halfOpen", () => transition("half-open"));
  breaker.on("close", () => transition("closed"));

  const interceptor: Interceptor = (next) => async (req) => {
    try {
      return await breaker.fire(() => next(req));
    } catch (err) {
      if (!(err instanceof Error && CircuitBreaker.isOurError(err))) throw err;
      const retryAfterMs = Math.max(0, resetTimeoutMs - (Date.now() - openedAt));
      const failFast = new PlatformError(
        ErrorCode.SERVICE_UNAVAILABLE,
        `Circuit breaker for upstream "${upstream}" is ${state}; failing fast`,
        { metadata: { upstream, circuit_state: state }, retryAfterMs, cause: err },
      );
      throw toConnectError(failFast, "cloudforet.resilience", req.header.get("x-request-id") ?? undefined);
    }
  };

  return {
    upstream,
    get state() {
      return state;
    },
    interceptor,
    shutdown: () => breaker.shutdown(),
  };
}

/** The breaker's interceptor alone, for a client of its own. */
export function circuitBreakerInterceptor(upstream: string, options?: CircuitBreakerOptions): Interceptor {
  return createCircuitBreaker(upstream, options).interceptor;
}

function countsAsFailure(err: unknown): boolean {
  // A stream refused on a session that is then replaced (ReplaceableSession) is the connection's
  // fault, not the upstream's: counting it let one tenant's oversized upload open the breaker for all.
  if (isRefusedStream(err)) return false;
  const category = categorize(err);
  return category === ErrorCategory.TRANSIENT || category === ErrorCategory.SERVER;
}

function setState(gauge: Gauge, upstream: string, current: CircuitState): void {
  for (const [state, label] of Object.entries(stateLabels)) gauge.set({ upstream, state: label }, state === current ? 1 : 0);
}

/** Breakers kept elsewhere (e.g. in a database, shared by replicas), read when the registry is scraped. */
export type CircuitStateSource = () => Promise<Array<{ upstream: string; state: CircuitState }>>;

const sourcesByRegistry = new WeakMap<Registry, Set<CircuitStateSource>>();

/**
 * Reports breakers this package does not run in the same gauge as its own; `source` is read on
 * every scrape, and an upstream it stops listing drops out. Returns the function that stops it.
 */
export function reportCircuitStates(source: CircuitStateSource, registry: Registry = globalRegistry): () => void {
  const gauge = stateGauge(registry);
  let listed = new Set<string>();
  const read: CircuitStateSource = async () => {
    const states = await source();
    const now = new Set(states.map((s) => s.upstream));
    for (const upstream of listed) if (!now.has(upstream)) for (const state of Object.values(stateLabels)) gauge.remove({ upstream, state });
    listed = now;
    return states;
  };
  const sources = sourcesByRegistry.get(registry) ?? new Set<CircuitStateSource>();
  sourcesByRegistry.set(registry, sources);
  sources.add(read);
  return () => {
    sources.delete(read);
    for (const upstream of listed) for (const state of Object.values(stateLabels)) gauge.remove({ upstream, state });
  };
}

/** prom-client refuses a second metric of one name, so every breaker shares the registry's gauge. */
function stateGauge(registry: Registry): Gauge {
  const existing = registry.getSingleMetric(CIRCUIT_BREAKER_STATE_METRIC);
  if (existing) return existing as Gauge;
  return new Gauge({
    name: CIRCUIT_BREAKER_STATE_METRIC,
    help: 'Circuit breaker state per upstream: 1 on the series of its current state (state="closed", "half_open" or "open"), 0 on the others.',
    labelNames: ["upstream", "state"],
    registers: [registry],
    async collect() {
      // A source that fails (its database is down) keeps its last values; the scrape still answers.
      const reads = [...(sourcesByRegistry.get(registry) ?? [])].map((read) => read().catch(() => []));
      for (const states of await Promise.all(reads)) for (const { upstream, state } of states) setState(this, upstream, state);
    },
  });
}
