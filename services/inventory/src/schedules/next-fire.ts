import { nextFireOf } from "@cloudforet/cron";
import type { CollectorSchedule } from "../db/schema";

/**
 * When an enabled schedule fires next, strictly after `after`; null when it is disabled or never
 * fires again. An interval schedule keeps its phase: `anchor` + k × interval (the previous fire, or
 * the moment it was enabled), so a late replica does not drift the schedule.
 */
export function nextFireTime(schedule: CollectorSchedule | null, after: Date, anchor: Date = after): Date | null {
  if (!schedule?.enabled) return null;
  if (schedule.intervalSeconds) {
    const step = schedule.intervalSeconds * 1000;
    const elapsed = after.getTime() - anchor.getTime();
    const steps = elapsed < 0 ? 1 : Math.floor(elapsed / step) + 1;
    return new Date(anchor.getTime() + steps * step);
  }
  // The 5-field form the collector validated; the shared parser reads it as "0 <minute> … *".
  return nextFireOf(schedule.cron, schedule.timezone || "UTC", after) ?? null;
}
