import { invalidParameter } from "@cloudforet/errors";
import type { CollectorSchedule } from "../db/schema";

const fields = [
  { name: "minute", min: 0, max: 59, names: [] as string[] },
  { name: "hour", min: 0, max: 23, names: [] as string[] },
  { name: "day of month", min: 1, max: 31, names: [] as string[] },
  { name: "month", min: 1, max: 12, names: ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"] },
  { name: "day of week", min: 0, max: 7, names: ["sun", "mon", "tue", "wed", "thu", "fri", "sat"] },
];

/** A five-field cron expression ("0 *\/6 * * *"): lists, ranges, steps, `*`, month and day names. */
export function validateCron(expression: string): string {
  const parts = expression.trim().split(/\s+/);
  if (parts.length !== 5) throw badCron(expression, "a cron expression has five fields: minute hour day-of-month month day-of-week");
  parts.forEach((part, i) => {
    const field = fields[i];
    for (const item of part.split(",")) {
      const [range, step, extra] = item.split("/");
      if (extra !== undefined || (step !== undefined && !/^\d{1,2}$/.test(step)) || step === "0") throw badCron(expression, `bad step in the ${field.name} field`);
      if (range === "*") continue;
      const [from, to, more] = range.split("-");
      if (more !== undefined) throw badCron(expression, `bad range in the ${field.name} field`);
      const low = value(from, field);
      const high = to === undefined ? low : value(to, field);
      if (low === undefined || high === undefined || low > high) throw badCron(expression, `bad value in the ${field.name} field`);
    }
  });
  return parts.join(" ");
}

function value(text: string, field: (typeof fields)[number]): number | undefined {
  const named = field.names.indexOf(text.toLowerCase());
  if (named >= 0) return named + (field.name === "month" ? 1 : 0);
  if (!/^\d{1,2}$/.test(text)) return undefined;
  const n = Number(text);
  return n >= field.min && n <= field.max ? n : undefined;
}

function badCron(expression: string, message: string) {
  return invalidParameter(message, { parameter: "schedule.cron", value: expression.slice(0, 128) });
}

/** An IANA zone name that this runtime knows; empty means UTC. */
export function validateTimezone(timezone: string): string {
  if (!timezone) return "";
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: timezone });
    return timezone;
  } catch {
    throw invalidParameter("Unknown time zone", { parameter: "schedule.timezone", value: timezone.slice(0, 128) });
  }
}

/** The longest interval between fires: 31 days. */
const MAX_INTERVAL_SECONDS = 31 * 24 * 3600;

/** A cron schedule (`cron`, `timezone`) or an interval one (`interval_seconds`), exactly one of the two. */
export function validateSchedule(schedule: { enabled: boolean; cron: string; timezone: string; intervalSeconds?: number }): CollectorSchedule {
  const interval = schedule.intervalSeconds ?? 0;
  if (interval !== 0) {
    if (schedule.cron) throw invalidParameter("Give either schedule.cron or schedule.interval_seconds, not both", { parameter: "schedule.interval_seconds" });
    if (!Number.isInteger(interval) || interval < 1 || interval > MAX_INTERVAL_SECONDS) {
      throw invalidParameter(`schedule.interval_seconds must be from 1 to ${MAX_INTERVAL_SECONDS}`, { parameter: "schedule.interval_seconds", value: String(interval) });
    }
    return { enabled: schedule.enabled, cron: "", timezone: validateTimezone(schedule.timezone), intervalSeconds: interval };
  }
  if (!schedule.cron) throw invalidParameter("Missing required field", { parameter: "schedule.cron" });
  return { enabled: schedule.enabled, cron: validateCron(schedule.cron), timezone: validateTimezone(schedule.timezone) };
}
