import type { SeriesState } from "../db/schema";

/** What is stored of a series between evaluations. */
export interface SeriesMemory {
  state: SeriesState;
  pendingSince: Date | null;
  firingSince: Date | null;
}

export interface SeriesStep extends SeriesMemory {
  /** The series starts firing now: raise its alert. */
  fire: boolean;
  /** The series stops firing now: resolve its alert. */
  resolve: boolean;
}

/**
 * One evaluation of one series (Prometheus's rule states): OK → PENDING when the condition holds,
 * PENDING → FIRING once it has held for `forMs` since pending-since (kept across restarts, as it is
 * stored), FIRING → RESOLVED when it no longer holds (or the series has no data), RESOLVED → OK.
 */
export function stepSeries(previous: SeriesMemory | undefined, holds: boolean, forMs: number, now: Date): SeriesStep {
  const state = previous?.state ?? "OK";
  if (holds) {
    if (state === "FIRING") return { ...previous!, fire: false, resolve: false };
    const pendingSince = state === "PENDING" && previous?.pendingSince ? previous.pendingSince : now;
    if (now.getTime() - pendingSince.getTime() >= forMs) return { state: "FIRING", pendingSince, firingSince: now, fire: true, resolve: false };
    return { state: "PENDING", pendingSince, firingSince: null, fire: false, resolve: false };
  }
  if (state === "FIRING") return { state: "RESOLVED", pendingSince: null, firingSince: null, fire: false, resolve: true };
  return { state: "OK", pendingSince: null, firingSince: null, fire: false, resolve: false };
}
