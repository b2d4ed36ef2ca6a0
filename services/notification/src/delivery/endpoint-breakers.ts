import CircuitBreaker from "opossum";
import type { Logger } from "pino";
import { DeliveryFailure } from "./delivery-failure";
import type { Endpoint } from "./endpoint";

export type BreakerState = "closed" | "open" | "half-open";

export interface EndpointBreakerOptions {
  /** Consecutive retryable failures that open an endpoint's circuit (seed 000, pattern 3). */
  failureThreshold: number;
  /** How long it stays open before one probe is let through. */
  resetTimeoutMs: number;
  logger: Logger;
}

/** Thrown instead of an attempt while the endpoint's circuit is open. */
export class BreakerOpenError extends Error {
  constructor(
    readonly endpoint: Endpoint,
    readonly retryAfterMs: number,
  ) {
    super(`circuit breaker open for ${endpoint.label}: not attempted (next probe in ${Math.ceil(retryAfterMs / 1000)} s)`);
    this.name = "BreakerOpenError";
  }
}

interface Breaker {
  circuit: CircuitBreaker<[() => Promise<void>], void>;
  state: BreakerState;
  openedAt: number;
}

/**
 * One opossum circuit per endpoint, in this process. Only retryable failures count (a 4xx is an
 * answer from a healthy endpoint); after `failureThreshold` in a row the circuit opens and attempts
 * fail fast with BreakerOpenError until the reset timeout lets one probe through.
 */
export class EndpointBreakers {
  private readonly breakers = new Map<string, Breaker>();

  constructor(private readonly options: EndpointBreakerOptions) {}

  stateOf(endpointKey: string): BreakerState {
    return this.breakers.get(endpointKey)?.state ?? "closed";
  }

  async run(endpoint: Endpoint, attempt: () => Promise<void>): Promise<void> {
    const breaker = this.breakerFor(endpoint);
    try {
      await breaker.circuit.fire(attempt);
    } catch (err) {
      if (err instanceof Error && CircuitBreaker.isOurError(err)) {
        throw new BreakerOpenError(endpoint, Math.max(0, this.options.resetTimeoutMs - (Date.now() - breaker.openedAt)));
      }
      throw err;
    }
  }

  shutdown(): void {
    for (const breaker of this.breakers.values()) breaker.circuit.shutdown();
    this.breakers.clear();
  }

  private breakerFor(endpoint: Endpoint): Breaker {
    const existing = this.breakers.get(endpoint.key);
    if (existing) return existing;
    const circuit = new CircuitBreaker<[() => Promise<void>], void>((attempt) => attempt(), {
      name: endpoint.label,
      timeout: false, // each attempt carries its own deadline
      resetTimeout: this.options.resetTimeoutMs,
      // opossum opens only above the percentage; 100 leaves opening to the consecutive count below.
      errorThresholdPercentage: 100,
      volumeThreshold: 0,
      errorFilter: (err) => !(err instanceof DeliveryFailure && err.retryable),
    });
    const breaker: Breaker = { circuit, state: "closed", openedAt: 0 };
    let consecutiveFailures = 0;
    const log = this.options.logger;
    const transition = (state: BreakerState) => {
      const previous = breaker.state;
      breaker.state = state;
      (state === "closed" ? log.info.bind(log) : log.warn.bind(log))({ endpoint: endpoint.label, state, previous_state: previous }, `delivery circuit breaker ${state}`);
    };
    circuit.on("failure", () => {
      consecutiveFailures += 1;
      if (consecutiveFailures >= this.options.failureThreshold && !circuit.opened) circuit.open();
    });
    circuit.on("success", () => {
      consecutiveFailures = 0;
    });
    circuit.on("open", () => {
      consecutiveFailures = 0;
      breaker.openedAt = Date.now();
      transition("open");
    });
    circuit.on("halfOpen", () => transition("half-open"));
    circuit.on("close", () => transition("closed"));
    this.breakers.set(endpoint.key, breaker);
    return breaker;
  }
}
