/** The lifecycle shared by jobs and tasks (Job.Status and JobTask.Status print the same strings). */
export const STATUSES = ["CREATED", "IN_PROGRESS", "FINISHED", "FAILURE", "CANCELED", "TIMEOUT"] as const;
export type Status = (typeof STATUSES)[number];

export const FINAL_STATUSES: readonly Status[] = ["FINISHED", "FAILURE", "CANCELED", "TIMEOUT"];
export const RUNNING_STATUSES: readonly Status[] = ["CREATED", "IN_PROGRESS"];

export const isFinal = (status: string): boolean => (FINAL_STATUSES as readonly string[]).includes(status);

/**
 * The bus event a job's move to `status` is announced as (`cloudforet.inventory.job.<event>`):
 * `created`, `started`, and `finished` for every final status (the event's `status` says which).
 */
export function jobEventFor(status: Status): string {
  if (status === "CREATED") return "created";
  if (status === "IN_PROGRESS") return "started";
  return "finished";
}

/** What a job's tasks add up to. */
export interface TaskTotals {
  succeeded: number;
  failed: number;
  running: number;
  created: number;
  updated: number;
  deleted: number;
  errors: number;
  /** Finished tasks count 100, running ones their reported progress. */
  progressSum: number;
}

/**
 * A job's status after its tasks changed: final once every task of every account has ended
 * (FINISHED when all finished, else FAILURE), IN_PROGRESS once any task started, else CREATED.
 * A job that is already final stays as it is.
 */
export function rolledUpStatus(current: Status, totalTaskCount: number, totals: TaskTotals): Status {
  if (isFinal(current)) return current;
  if (totals.succeeded + totals.failed >= totalTaskCount) return totals.failed === 0 ? "FINISHED" : "FAILURE";
  if (totals.running > 0 || totals.succeeded + totals.failed > 0) return "IN_PROGRESS";
  return current;
}

export function rolledUpProgress(totalTaskCount: number, totals: TaskTotals): number {
  if (totalTaskCount <= 0) return 0;
  return Math.min(100, Math.floor(totals.progressSum / totalTaskCount));
}
