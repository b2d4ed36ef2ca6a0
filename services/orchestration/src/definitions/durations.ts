const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/y;

/** A duration as a definition writes it: seed 002's text ("30s") or the Orch8 engine's integer milliseconds (30000). */
export type Duration = string | number;

/** Longest duration accepted as integer milliseconds (about 100 years). */
const MAX_MS = 100 * 365 * 86_400_000;

/**
 * Milliseconds of a duration: a string such as "30s", "1m", "500ms", "2h", "1d" or "1h30m"
 * (parts of a number and a unit, largest unit first is not required), or a non-negative integer
 * of milliseconds as the real engine writes them. Undefined when malformed.
 */
export function parseDuration(text: Duration): number | undefined {
  if (typeof text === "number") return Number.isSafeInteger(text) && text >= 0 && text <= MAX_MS ? text : undefined;
  if (typeof text !== "string") return undefined;
  const value = text.trim();
  if (value === "") return undefined;
  let total = 0;
  PART.lastIndex = 0;
  while (PART.lastIndex < value.length) {
    const start = PART.lastIndex;
    const match = PART.exec(value);
    if (!match || match.index !== start) return undefined;
    total += Number(match[1]) * UNIT_MS[match[2]];
  }
  return Number.isFinite(total) ? Math.round(total) : undefined;
}

/** "90s" → 90000; throws with `what` in the message when malformed. */
export function requireDuration(text: Duration, what: string): number {
  const ms = parseDuration(text);
  if (ms === undefined) throw new Error(`${what} is not a duration (use e.g. "500ms", "30s", "1m", "2h", "1d"): ${JSON.stringify(text)}`);
  return ms;
}
