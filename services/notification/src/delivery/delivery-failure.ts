/**
 * Why an attempt did not deliver. `retryable` failures (timeouts, refused connections, HTTP 408/429/5xx,
 * SMTP 4xx) are tried again and count against the endpoint's circuit breaker; the others (HTTP 4xx,
 * SMTP 5xx, a channel that cannot work) end the delivery at once: the endpoint answered, and asking
 * again would get the same answer.
 */
export class DeliveryFailure extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "DeliveryFailure";
  }
}

/** Longest error text kept on a delivery record. */
export const MAX_ERROR_TEXT = 1000;

export function truncateError(text: string): string {
  return text.length > MAX_ERROR_TEXT ? `${text.slice(0, MAX_ERROR_TEXT - 1)}…` : text;
}
