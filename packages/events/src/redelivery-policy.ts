/** How a failed delivery is retried. */
export interface RedeliveryPolicy {
  /** Delay before the second delivery. */
  initialDelayMs: number;
  /** Ceiling of the exponential delay. */
  maxDelayMs: number;
  /** Deliveries before an event is given up on and logged as dropped; -1 retries forever. */
  maxDeliver: number;
}

export const DEFAULT_REDELIVERY: RedeliveryPolicy = { initialDelayMs: 1_000, maxDelayMs: 60_000, maxDeliver: -1 };

export const resolveRedelivery = (...overrides: Array<Partial<RedeliveryPolicy> | undefined>): RedeliveryPolicy =>
  Object.assign({}, DEFAULT_REDELIVERY, ...overrides.filter(Boolean));

/** Delay before delivery `failedAttempt + 1`: doubling from `initialDelayMs`, capped at `maxDelayMs`. */
export function redeliveryDelay(failedAttempt: number, policy: RedeliveryPolicy): number {
  const exponent = Math.min(Math.max(failedAttempt - 1, 0), 30);
  return Math.min(policy.initialDelayMs * 2 ** exponent, policy.maxDelayMs);
}

/** Whether the attempt that just failed was the last one allowed. */
export const isLastDelivery = (attempt: number, policy: RedeliveryPolicy) =>
  policy.maxDeliver > 0 && attempt >= policy.maxDeliver;
