import type { Interceptor, StreamResponse, UnaryResponse } from "@connectrpc/connect";
import { ErrorCode, PlatformError, toConnectError } from "@cloudforet/errors";
import CircuitBreaker from "opossum";
import type { Logger } from "pino";
import { Gauge, register as globalRegistry, type Registry } from "prom-client";
import { categorize, ErrorCategory } from "./categorize";
import { defaultLogger } from "./default-logger";

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

const gaugeValue: Record<CircuitState, number> = { closed: 0, "half-open": 1, open: 2 };

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
  gauge.set({ upstream }, gaugeValue.closed);

  const transition = (next: CircuitState) => {
    const previous = state;
    state = next;
    gauge.set({ upstream }, gaugeValue[next]);
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
  const category = categorize(err);
  return category === ErrorCategory.TRANSIENT || category === ErrorCategory.SERVER;
}

/** prom-client refuses a second metric of one name, so every breaker shares the registry's gauge. */
function stateGauge(registry: Registry): Gauge {
  const existing = registry.getSingleMetric(CIRCUIT_BREAKER_STATE_METRIC);
  if (existing) return existing as Gauge;
  return new Gauge({
    name: CIRCUIT_BREAKER_STATE_METRIC,
    help: "Circuit breaker state per upstream: 0 closed, 1 half-open, 2 open.",
    labelNames: ["upstream"],
    registers: [registry],
  });
}
