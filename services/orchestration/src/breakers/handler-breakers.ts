import CircuitBreaker from "opossum";
import type { Logger } from "pino";
import { ownerKey, type Owner } from "../access/tenants";
import type { StepHandler, StepInvocation, StepOutcome } from "../engine/handlers/handler";

export interface BreakerSettings {
  /** Consecutive retryable failures of a handler (in one tenant) that open its circuit. Default 5. */
  failureThreshold: number;
  /** How long an open circuit defers the handler's steps before letting one probe through. Default 30 s. */
  cooldownMs: number;
}

/** A breaker's state in the engine's CircuitBreakerState shape. */
export interface BreakerState {
  handler: string;
  state: "closed" | "open" | "half_open";
  failure_count: number;
  failure_threshold: number;
  cooldown_secs: number;
  opened_at?: string;
}

/** A retryable failure carried through opossum so it counts (as does anything the handler throws); unwrapped into the step's outcome. */
class CountedFailure extends Error {
  constructor(readonly outcome: StepOutcome) {
    super("handler failed");
  }
}

interface Entry {
  owner: Owner;
  handler: string;
  breaker: CircuitBreaker<[() => Promise<StepOutcome>], StepOutcome>;
  failures: number;
  openedAt?: number;
}

/**
 * Circuit breakers per tenant and handler (opossum) around the built-in handlers that call peers
 * (`external` effects: http_request, llm_call, tool_call, recurrent_request). Only retryable
 * failures (5xx, 429, timeouts, network errors) count; a permanent one is a healthy peer's answer.
 * While a circuit is open the handler is not called: its steps are deferred until the cooldown
 * ends (suspended, their attempt not consumed), then one probe decides (half-open → closed or
 * open again). Breakers live in each replica's memory, as the engine's do.
 */
export class HandlerBreakers {
  private readonly entries = new Map<string, Entry>();
  private readonly wrapped = new Map<string, StepHandler>();

  constructor(
    private readonly settings: BreakerSettings,
    private readonly logger: Logger,
  ) {}

  /** The handler behind its tenant's breaker (external handlers only; others are returned as they are). */
  guard(name: string, handler: StepHandler): StepHandler {
    if (handler.effects !== "external") return handler;
    let guarded = this.wrapped.get(name);
    if (!guarded) {
      guarded = { ...handler, run: (step) => this.run(name, handler, step) };
      this.wrapped.set(name, guarded);
    }
    return guarded;
  }

  list(owner: Owner): BreakerState[] {
    return [...this.entries.values()].filter((e) => e.owner.domainId === owner.domainId && e.owner.tenantId === owner.tenantId).map((e) => this.stateOf(e)).sort((a, b) => a.handler.localeCompare(b.handler));
  }

  get(owner: Owner, handler: string): BreakerState | undefined {
    const entry = this.entries.get(keyOf(owner, handler));
    return entry && this.stateOf(entry);
  }

  /** Closes the circuit (failure count 0); false when the handler has no breaker here yet. */
  reset(owner: Owner, handler: string): boolean {
    const entry = this.entries.get(keyOf(owner, handler));
    if (!entry) return false;
    entry.breaker.close();
    entry.failures = 0;
    entry.openedAt = undefined;
    this.logger.info({ handler, tenant_id: owner.tenantId }, "circuit breaker reset");
    return true;
  }

  shutdown(): void {
    for (const entry of this.entries.values()) entry.breaker.shutdown();
    this.entries.clear();
  }

  private async run(name: string, handler: StepHandler, step: StepInvocation): Promise<StepOutcome> {
    const entry = this.entryOf({ domainId: step.instance.domainId, tenantId: step.instance.tenantId }, name);
    try {
      return await entry.breaker.fire(async () => {
        const outcome = await handler.run(step);
        if (outcome.kind === "failed" && outcome.retryable) throw new CountedFailure(outcome);
        return outcome;
      });
    } catch (err) {
      if (err instanceof CountedFailure) return err.outcome;
      if (err instanceof Error && CircuitBreaker.isOurError(err)) {
        // Open: defer the step (no call, no attempt used) until a probe may go through.
        const until = (entry.openedAt ?? step.now) + this.settings.cooldownMs;
        return { kind: "suspended", data: step.data, until: Math.max(until, step.now + 50), external: false };
      }
      throw err;
    }
  }

  private entryOf(owner: Owner, handler: string): Entry {
    const key = keyOf(owner, handler);
    const existing = this.entries.get(key);
    if (existing) return existing;
    const breaker = new CircuitBreaker<[() => Promise<StepOutcome>], StepOutcome>((call) => call(), {
      name: `${ownerKey(owner)}:${handler}`,
      timeout: false, // deadlines belong to the step
      resetTimeout: this.settings.cooldownMs,
      // Opened by the consecutive-failure count below, never by a percentage.
      errorThresholdPercentage: 100,
      volumeThreshold: 0,
    });
    const entry: Entry = { owner, handler, breaker, failures: 0 };
    const log = { handler, tenant_id: owner.tenantId };
    breaker.on("failure", () => {
      entry.failures += 1;
      if (entry.failures >= this.settings.failureThreshold && !breaker.opened) breaker.open();
    });
    breaker.on("success", () => {
      entry.failures = 0;
    });
    breaker.on("open", () => {
      entry.openedAt = Date.now();
      this.logger.warn({ ...log, state: "open", failure_count: entry.failures }, "circuit breaker open");
    });
    breaker.on("halfOpen", () => this.logger.info({ ...log, state: "half_open" }, "circuit breaker half-open"));
    breaker.on("close", () => {
      entry.openedAt = undefined;
      this.logger.info({ ...log, state: "closed" }, "circuit breaker closed");
    });
    this.entries.set(key, entry);
    return entry;
  }

  private stateOf(entry: Entry): BreakerState {
    const state = entry.breaker.halfOpen ? "half_open" : entry.breaker.opened ? "open" : "closed";
    return {
      handler: entry.handler,
      state,
      failure_count: entry.failures,
      failure_threshold: this.settings.failureThreshold,
      cooldown_secs: Math.round(this.settings.cooldownMs / 1000),
      ...(entry.openedAt !== undefined && state !== "closed" ? { opened_at: new Date(entry.openedAt).toISOString() } : {}),
    };
  }
}

const keyOf = (owner: Owner, handler: string) => `${owner.domainId}\u0000${owner.tenantId}\u0000${handler}`;
