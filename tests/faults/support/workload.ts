import { Code, ConnectError } from "@connectrpc/connect";

/**
 * How one write ended for the client: the service acknowledged it ("created"), or a retry learned
 * that an earlier attempt had already been committed ("existing": ALREADY_EXISTS, an idempotency
 * replay, or a read that found it).
 */
export type WriteOutcome = "created" | "existing";

export interface WorkloadOptions {
  /** One unique key per write (an id, a name, an idempotency key). */
  keys: string[];
  /** Writers running at once. */
  concurrency: number;
  /** Performs write `key`; `attempt` starts at 1. Resolves once the service acknowledged it. */
  write(key: string, attempt: number): Promise<WriteOutcome>;
  /**
   * For APIs without an idempotency key: asked before a retry whether the failed attempt was
   * committed after all, so a careful client does not write it twice.
   */
  landed?(key: string): Promise<boolean>;
  /** Give up on a write after this long (the test then fails naming it). Default 120 s. */
  deadlineMs?: number;
  /** Pause between attempts of one write while the service is down. Default 200 ms. */
  retryDelayMs?: number;
}

export interface WriteRecord {
  key: string;
  outcome: WriteOutcome;
  attempts: number;
  ackedAt: number;
}

export interface WorkloadReport {
  /** Every write that finished, by key. */
  acked: Map<string, WriteRecord>;
  /** Writes that never succeeded (a non-retryable error, or the deadline). */
  failed: { key: string; error: string }[];
  /** Attempts that failed and were retried. */
  retriedAttempts: number;
  /** Why they failed: the gRPC code name ("Unavailable"), or "transport" for a non-Connect error. */
  retriedCodes: Record<string, number>;
}

/**
 * Whether an error means "the service is not there right now" (connection refused or reset, the
 * stream cut by a dying process, a timeout), so the same write is sent again. Anything the
 * service itself answered (INVALID_ARGUMENT, NOT_FOUND...) is final and fails the test.
 */
export function isTransient(err: unknown): boolean {
  if (!(err instanceof ConnectError)) return true;
  return [Code.Unavailable, Code.Unknown, Code.Internal, Code.Canceled, Code.DeadlineExceeded, Code.Aborted].includes(err.code);
}

export const isAlreadyExists = (err: unknown) => err instanceof ConnectError && err.code === Code.AlreadyExists;

const describe = (err: unknown) => (err instanceof Error ? err.message : String(err));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A concurrent stream of writes that survives the service going away: each writer takes the next
 * key, and retries it (same key, same idempotency key) until the service acknowledges it. The test
 * kills the service while this runs and reads `ackedKeys()` / `inFlightKeys()` at that moment.
 */
export class Workload {
  private readonly acked = new Map<string, WriteRecord>();
  private readonly failed: { key: string; error: string }[] = [];
  private readonly inFlight = new Set<string>();
  private retriedAttempts = 0;
  private readonly retriedCodes: Record<string, number> = {};
  private next = 0;
  private waiters: { count: number; resolve: () => void }[] = [];
  private done: Promise<WorkloadReport> | undefined;

  constructor(private readonly options: WorkloadOptions) {}

  /** Starts the writers; resolves when every key is acknowledged or has failed for good. */
  run(): Promise<WorkloadReport> {
    this.done ??= Promise.all(Array.from({ length: this.options.concurrency }, () => this.writer())).then(() => ({
      acked: new Map(this.acked),
      failed: [...this.failed],
      retriedAttempts: this.retriedAttempts,
      retriedCodes: { ...this.retriedCodes },
    }));
    return this.done;
  }

  /** Resolves once `count` writes have been acknowledged (or all have ended). */
  whenAcked(count: number): Promise<void> {
    if (this.acked.size >= count) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ count, resolve }));
  }

  ackedKeys(): Set<string> {
    return new Set(this.acked.keys());
  }

  inFlightKeys(): Set<string> {
    return new Set(this.inFlight);
  }

  private async writer(): Promise<void> {
    for (;;) {
      const index = this.next++;
      if (index >= this.options.keys.length) break;
      await this.writeOne(this.options.keys[index]);
    }
    // A writer that ends releases anyone waiting for more acks than can come.
    this.notify(true);
  }

  private async writeOne(key: string): Promise<void> {
    const deadline = Date.now() + (this.options.deadlineMs ?? 120_000);
    this.inFlight.add(key);
    try {
      for (let attempt = 1; ; attempt++) {
        try {
          if (attempt > 1 && this.options.landed && (await this.options.landed(key))) {
            this.record(key, "existing", attempt);
            return;
          }
          this.record(key, await this.options.write(key, attempt), attempt);
          return;
        } catch (err) {
          if (!isTransient(err) || Date.now() > deadline) {
            this.failed.push({ key, error: `attempt ${attempt}: ${describe(err)}` });
            return;
          }
          this.retriedAttempts += 1;
          const code = err instanceof ConnectError ? Code[err.code] : "transport";
          this.retriedCodes[code] = (this.retriedCodes[code] ?? 0) + 1;
          await sleep(this.options.retryDelayMs ?? 200);
        }
      }
    } finally {
      this.inFlight.delete(key);
    }
  }

  private record(key: string, outcome: WriteOutcome, attempts: number): void {
    this.acked.set(key, { key, outcome, attempts, ackedAt: Date.now() });
    this.notify(false);
  }

  private notify(ending: boolean): void {
    this.waiters = this.waiters.filter((w) => {
      if (this.acked.size >= w.count || ending) {
        w.resolve();
        return false;
      }
      return true;
    });
  }
}

/** Keys that occur more than once in `keys`, with their counts. */
export function duplicates(keys: string[]): Record<string, number> {
  const counts = new Map<string, number>();
  for (const key of keys) counts.set(key, (counts.get(key) ?? 0) + 1);
  return Object.fromEntries([...counts].filter(([, n]) => n > 1));
}
