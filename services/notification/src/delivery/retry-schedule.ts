/**
 * The wait after failed attempt `attempt` (1-based): base · 2^(attempt-1), capped — seed 000's
 * pattern 1 (1 s, 2 s, 4 s, 8 s with the defaults).
 */
export function retryDelayMs(attempt: number, baseMs: number, maxMs: number): number {
  return Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
}
