import { ErrorCode } from "@cloudforet/errors";
import { categorize, ErrorCategory } from "@cloudforet/resilience";
import CircuitBreaker from "opossum";
import type { Logger } from "pino";
import { PrismError } from "./prism-error";

export type BreakerState = "closed" | "open" | "half-open";

export interface PrismBreakerOptions {
  /** Consecutive TRANSIENT/SERVER failures that open the circuit. Default 5. */
  failureThreshold?: number;
  /** How long it stays open before one probe call. Default 60 000 ms. */
  resetTimeoutMs?: number;
}

/**
 * Seed 000 pattern 3 for one Prism, on opossum: only an unhealthy Prism counts (a 401 or 404 is a
 * healthy Prism's answer); `failureThreshold` failures in a row open it; while open every call fails
 * fast with SERVICE_UNAVAILABLE naming the failure that opened it; after `resetTimeoutMs` one probe
 * is let through. A plugin shares one per Prism across its tasks, so a dead Prism is not hammered.
 */
export class PrismBreaker {
  private readonly breaker: CircuitBreaker<[() => Promise<unknown>], unknown>;
  private consecutiveFailures = 0;
  private lastFailure?: PrismError;
  private current: BreakerState = "closed";
  readonly failureThreshold: number;
  readonly resetTimeoutMs: number;

  constructor(
    private readonly logger: Logger,
    options: PrismBreakerOptions = {},
  ) {
    this.failureThreshold = options.failureThreshold ?? 5;
    this.resetTimeoutMs = options.resetTimeoutMs ?? 60_000;
    this.breaker = new CircuitBreaker((call: () => Promise<unknown>) => call(), {
      name: "nutanix-prism",
      timeout: false,
      resetTimeout: this.resetTimeoutMs,
      // opossum opens above a percentage; 100 leaves opening to the consecutive count below.
      errorThresholdPercentage: 100,
      volumeThreshold: 0,
      errorFilter: (err: unknown) => !countsAsFailure(err),
    });
    this.breaker.on("failure", (err: unknown) => {
      if (PrismError.isPrismError(err)) this.lastFailure = err;
      this.consecutiveFailures += 1;
      if (this.consecutiveFailures >= this.failureThreshold && this.current !== "open") this.breaker.open();
    });
    this.breaker.on("success", () => (this.consecutiveFailures = 0));
    this.breaker.on("open", () => this.transition("open"));
    this.breaker.on("halfOpen", () => this.transition("half-open"));
    this.breaker.on("close", () => this.transition("closed"));
  }

  get state(): BreakerState {
    return this.current;
  }

  get isOpen(): boolean {
    return this.breaker.opened;
  }

  /** Runs `call` through the circuit; an open circuit rejects with the fail-fast PrismError. */
  async fire<T>(call: () => Promise<T>, path: string): Promise<T> {
    try {
      return (await this.breaker.fire(call)) as T;
    } catch (err) {
      if (err instanceof Error && CircuitBreaker.isOurError(err)) throw this.openError(path, err);
      throw err;
    }
  }

  /** The fail-fast error, naming the failure that opened the circuit. */
  openError(path: string, cause?: unknown): PrismError {
    const why = this.lastFailure ? `; last failure: ${this.lastFailure.message}` : "";
    return new PrismError(
      ErrorCode.SERVICE_UNAVAILABLE,
      ErrorCategory.TRANSIENT,
      `Nutanix Prism circuit breaker is open after ${this.failureThreshold} consecutive failures; failing fast${why}`,
      { path, cause, retryAfterMs: this.resetTimeoutMs },
    );
  }

  /** Stops the reset timer. */
  shutdown(): void {
    this.breaker.shutdown();
  }

  private transition(next: BreakerState): void {
    const previous = this.current;
    this.current = next;
    if (next === "open") this.consecutiveFailures = 0;
    const log = next === "closed" ? this.logger.info.bind(this.logger) : this.logger.warn.bind(this.logger);
    log({ upstream: "nutanix-prism", state: next, previous_state: previous }, `Prism circuit breaker ${next}`);
  }
}

function countsAsFailure(err: unknown): boolean {
  const category = categorize(err);
  return category === ErrorCategory.TRANSIENT || category === ErrorCategory.SERVER;
}
