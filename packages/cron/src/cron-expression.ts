/**
 * 7-field cron expressions (seed 002 "Cron Schedules"): `second minute hour day month day_of_week year`.
 *
 * Each field is `*`, a value, a range `a-b`, a step `*\/n`, `a/n` or `a-b/n`, or a comma list of those.
 * Months take JAN-DEC, days of week SUN-SAT (0-7, both 0 and 7 are Sunday), and `?` means "any" in the
 * day and day_of_week fields. When both day and day_of_week are restricted, a day matching either fires
 * (classic cron); when one of them is `*` or `?`, only the other one counts. Years run 1970-2199.
 *
 * Short forms, as in the seed's own examples: 6 fields are `minute hour day month day_of_week year`
 * ("0 9 * * MON-FRI *" is 9:00 on weekdays) and 5 fields the classic `minute hour day month
 * day_of_week`; both fire at second 0.
 */

export interface CronExpression {
  readonly source: string;
  readonly seconds: readonly number[];
  readonly minutes: readonly number[];
  readonly hours: readonly number[];
  readonly days: ReadonlySet<number>;
  readonly months: ReadonlySet<number>;
  readonly weekdays: ReadonlySet<number>;
  readonly years: ReadonlySet<number>;
  readonly dayAny: boolean;
  readonly weekdayAny: boolean;
  /** The hour field is `*`: the schedule is about elapsed time, so a repeated (fall-back) hour fires twice. */
  readonly everyHour: boolean;
}

export class CronSyntaxError extends Error {}

export const MIN_YEAR = 1970;
export const MAX_YEAR = 2199;

const MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"];
const WEEKDAYS = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

interface FieldSpec {
  name: string;
  min: number;
  max: number;
  names?: string[];
  /** Value of the first name (JAN = 1, SUN = 0). */
  nameBase?: number;
  question?: boolean;
}

const FIELDS: FieldSpec[] = [
  { name: "second", min: 0, max: 59 },
  { name: "minute", min: 0, max: 59 },
  { name: "hour", min: 0, max: 23 },
  { name: "day", min: 1, max: 31, question: true },
  { name: "month", min: 1, max: 12, names: MONTHS, nameBase: 1 },
  { name: "day_of_week", min: 0, max: 7, names: WEEKDAYS, nameBase: 0, question: true },
  { name: "year", min: MIN_YEAR, max: MAX_YEAR },
];

function valueOf(token: string, spec: FieldSpec): number {
  const upper = token.toUpperCase();
  const named = spec.names?.indexOf(upper) ?? -1;
  if (named >= 0) return named + (spec.nameBase ?? 0);
  if (!/^\d+$/.test(token)) throw new CronSyntaxError(`${spec.name}: "${token}" is not a number${spec.names ? " or a name" : ""}`);
  const n = Number(token);
  if (n < spec.min || n > spec.max) throw new CronSyntaxError(`${spec.name}: ${n} is outside ${spec.min}-${spec.max}`);
  return n;
}

/** The values a field allows, and whether it was a wildcard (`*` or `?`). */
function parseField(text: string, spec: FieldSpec): { values: Set<number>; any: boolean } {
  if (text === "?") {
    if (!spec.question) throw new CronSyntaxError(`${spec.name}: "?" is only allowed in day and day_of_week`);
    return { values: range(spec.min, spec.max, 1), any: true };
  }
  const values = new Set<number>();
  for (const part of text.split(",")) {
    if (part === "") throw new CronSyntaxError(`${spec.name}: empty list item in "${text}"`);
    const [base, stepText, extra] = part.split("/");
    if (extra !== undefined) throw new CronSyntaxError(`${spec.name}: "${part}" has more than one "/"`);
    let step = 1;
    if (stepText !== undefined) {
      if (!/^\d+$/.test(stepText) || Number(stepText) < 1) throw new CronSyntaxError(`${spec.name}: step "${stepText}" must be a positive integer`);
      step = Number(stepText);
    }
    let from: number;
    let to: number;
    if (base === "*") {
      [from, to] = [spec.min, spec.max];
    } else if (base.includes("-")) {
      const [a, b, more] = base.split("-");
      if (more !== undefined || a === "" || b === "") throw new CronSyntaxError(`${spec.name}: "${base}" is not a range`);
      [from, to] = [valueOf(a, spec), valueOf(b, spec)];
      if (from > to) throw new CronSyntaxError(`${spec.name}: range ${base} runs backwards`);
    } else {
      from = valueOf(base, spec);
      to = stepText === undefined ? from : spec.max;
    }
    for (const v of range(from, to, step)) values.add(v);
  }
  return { values, any: text === "*" };
}

function range(from: number, to: number, step: number): Set<number> {
  const out = new Set<number>();
  for (let v = from; v <= to; v += step) out.add(v);
  return out;
}

const sorted = (values: Set<number>) => [...values].sort((a, b) => a - b);

/** Parses a 7-field expression; throws CronSyntaxError saying what is wrong. */
export function parseCron(source: string): CronExpression {
  if (typeof source !== "string") throw new CronSyntaxError("the expression must be a string");
  const parts = source.trim().split(/\s+/);
  const count = parts[0] === "" ? 0 : parts.length;
  if (count < 5 || count > 7) throw new CronSyntaxError(`expected 7 fields (second minute hour day month day_of_week year), got ${count}`);
  // The seed's short forms: 6 fields leave out the second, 5 also the year.
  const full = count === 7 ? parts : ["0", ...parts, ...(count === 5 ? ["*"] : [])];
  const [second, minute, hour, day, month, weekday, year] = full.map((part, i) => parseField(part, FIELDS[i]));
  const weekdays = new Set([...weekday.values].map((d) => d % 7));
  return {
    source: parts.join(" "),
    seconds: sorted(second.values),
    minutes: sorted(minute.values),
    hours: sorted(hour.values),
    days: day.values,
    months: month.values,
    weekdays,
    years: year.values,
    dayAny: day.any,
    weekdayAny: weekday.any || weekdays.size === 7,
    everyHour: hour.values.size === 24,
  };
}

// ---- time zones -------------------------------------------------------------------------------

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat("en-US", {
      timeZone,
      hourCycle: "h23",
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "numeric",
      second: "numeric",
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** Whether Intl knows the IANA zone. */
export function isTimeZone(timeZone: string): boolean {
  try {
    formatter(timeZone);
    return true;
  } catch {
    return false;
  }
}

/** The wall-clock time of `ms` in the zone, as milliseconds of a "naive" UTC calendar. */
function wallClock(ms: number, timeZone: string): number {
  const p: Record<string, number> = {};
  for (const part of formatter(timeZone).formatToParts(new Date(ms))) if (part.type !== "literal") p[part.type] = Number(part.value);
  return Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second);
}

/** The zone's offset from UTC at `ms`, in milliseconds (whole seconds). */
function offsetAt(ms: number, timeZone: string): number {
  const floored = Math.floor(ms / 1000) * 1000;
  return wallClock(floored, timeZone) - floored;
}

/**
 * The instants at which the zone's clocks show the naive wall time: none in a spring-forward gap,
 * two in a repeated fall-back hour, else one (ascending).
 */
export function instantsOfWallTime(wall: number, timeZone: string, offset: (ms: number) => number = (ms) => offsetAt(ms, timeZone)): number[] {
  const offsets = new Set([offset(wall - 36 * 3_600_000), offset(wall), offset(wall + 36 * 3_600_000)]);
  const out = new Set<number>();
  for (const o of offsets) {
    const instant = wall - o;
    if (offset(instant) === o) out.add(instant);
  }
  return [...out].sort((a, b) => a - b);
}

// ---- next fire --------------------------------------------------------------------------------

const DAY_MS = 86_400_000;
/** Larger than any UTC offset change, so the first day's scan can skip wall times long past. */
const SLACK_MS = 3 * 3_600_000;

function dayMatches(cron: CronExpression, year: number, month: number, day: number, weekday: number): boolean {
  if (!cron.years.has(year) || !cron.months.has(month)) return false;
  const byDay = cron.days.has(day);
  const byWeekday = cron.weekdays.has(weekday);
  if (cron.dayAny && cron.weekdayAny) return true;
  if (cron.dayAny) return byWeekday;
  if (cron.weekdayAny) return byDay;
  return byDay || byWeekday;
}

/**
 * The first fire time strictly after `after`, evaluated on the wall clock of `timeZone`; undefined
 * when the expression never fires again (its years are past).
 *
 * DST: a wall time that does not exist (spring-forward gap) is skipped; a wall time that happens
 * twice (fall-back) fires once, at its first occurrence — unless the hour field is `*`, where the
 * schedule follows elapsed time and the repeated hour fires again.
 */
export function nextFireAfter(cron: CronExpression, timeZone: string, after: Date): Date | undefined {
  const afterMs = after.getTime();
  const startWall = wallClock(afterMs, timeZone);
  // Wall times this close to `after` whose instant is surely not later than it need no Intl call.
  const nearOffsets = [offsetAt(afterMs - 36 * 3_600_000, timeZone), offsetAt(afterMs, timeZone), offsetAt(afterMs + 36 * 3_600_000, timeZone)];
  const minOffset = Math.min(...nearOffsets);
  // Offsets change on whole minutes (every transition of the tz database since 1970): one Intl call per minute.
  const minuteOffsets = new Map<number, number>();
  const offset = (ms: number) => {
    const minute = Math.floor(ms / 60_000);
    let o = minuteOffsets.get(minute);
    if (o === undefined) minuteOffsets.set(minute, (o = offsetAt(minute * 60_000, timeZone)));
    return o;
  };
  let best: number | undefined;
  let bestWall = 0;
  // Near an offset change an earlier wall time can be a later instant: start that much earlier.
  const back = Math.max(...nearOffsets) - minOffset;
  for (const wall of wallTimes(cron, startWall - back)) {
    if (best !== undefined && wall > bestWall + SLACK_MS) break;
    if (wall < startWall + SLACK_MS && wall - minOffset <= afterMs) continue;
    const instants = instantsOfWallTime(wall, timeZone, offset);
    for (const instant of cron.everyHour ? instants : instants.slice(0, 1)) {
      if (instant <= afterMs || (best !== undefined && instant >= best)) continue;
      if (best === undefined) bestWall = wall;
      best = instant;
    }
    // Away from an offset change, wall-clock order is instant order: the first found is the answer.
    if (best !== undefined && best === instants[0] && offset(best - SLACK_MS) === offset(best + SLACK_MS)) break;
  }
  return best === undefined ? undefined : new Date(best);
}

/** The wall times (naive UTC calendar milliseconds) the expression matches, ascending from `from`. */
function* wallTimes(cron: CronExpression, from: number): Generator<number> {
  let dayStart = Math.floor(from / DAY_MS) * DAY_MS;
  for (;;) {
    const date = new Date(dayStart);
    const year = date.getUTCFullYear();
    if (year > MAX_YEAR) return;
    const month = date.getUTCMonth() + 1;
    if (!cron.years.has(year)) {
      dayStart = Date.UTC(year + 1, 0, 1);
      continue;
    }
    if (!cron.months.has(month)) {
      dayStart = Date.UTC(year, month, 1);
      continue;
    }
    if (dayMatches(cron, year, month, date.getUTCDate(), date.getUTCDay())) {
      for (const h of cron.hours) {
        const hourStart = dayStart + h * 3_600_000;
        if (hourStart + 3_600_000 <= from) continue;
        for (const m of cron.minutes) {
          const minuteStart = hourStart + m * 60_000;
          if (minuteStart + 60_000 <= from) continue;
          for (const s of cron.seconds) {
            const wall = minuteStart + s * 1000;
            if (wall >= from) yield wall;
          }
        }
      }
    }
    dayStart += DAY_MS;
  }
}

/** Parses and checks the expression fires at least once more after `after`. */
export function nextFireOf(source: string, timeZone: string, after: Date): Date | undefined {
  return nextFireAfter(parseCron(source), timeZone, after);
}
