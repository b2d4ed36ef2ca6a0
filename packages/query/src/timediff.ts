import { inSupportedRange } from "./datetime";

/**
 * The relative times of the `timediff_*` operators:
 *
 *   expression := "now" [ "/" unit ] { ("+" | "-") amount unit }
 *   unit       := "s" | "m" | "h" | "d" | "w"      (seconds, minutes, hours, days, weeks)
 *   amount     := 1 to 7 digits
 *
 * `/unit` truncates now (in UTC) to the start of that unit (`/w` to Monday 00:00), then the
 * offsets apply left to right: `now/d-14d` is midnight fourteen days ago, `now-1h` an hour
 * ago, `now/w` the start of this week. Whitespace is ignored, case is not; at most 5 offsets.
 */
export function parseTimediff(expression: string, now: Date): Date | undefined {
  // Case matters: "M" is not "m" (elsewhere it means months), so it is refused, not read as minutes.
  const text = expression.replace(/\s+/g, "");
  const match = /^now(?:\/([smhdw]))?((?:[+-]\d{1,7}[smhdw]){0,5})$/.exec(text);
  if (!match) return undefined;
  const [, truncateTo, offsets] = match;
  let time = truncateTo ? truncate(now, truncateTo as Unit) : now.getTime();
  for (const [, sign, amount, unit] of offsets.matchAll(/([+-])(\d+)([smhdw])/g)) {
    time += (sign === "-" ? -1 : 1) * Number(amount) * unitMillis[unit as Unit];
  }
  const result = new Date(time);
  return inSupportedRange(result) ? result : undefined;
}

type Unit = "s" | "m" | "h" | "d" | "w";

const unitMillis: Record<Unit, number> = {
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

function truncate(now: Date, unit: Unit): number {
  const time = now.getTime();
  if (unit !== "w") return time - mod(time, unitMillis[unit]);
  const midnight = time - mod(time, unitMillis.d);
  const daysSinceMonday = (new Date(midnight).getUTCDay() + 6) % 7;
  return midnight - daysSinceMonday * unitMillis.d;
}

const mod = (a: number, b: number) => ((a % b) + b) % b;
