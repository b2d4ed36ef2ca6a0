/** What a long poll waits for: tasks of one handler, of one tenant (undefined: any tenant, when auth is off). */
export interface TaskQueueKey {
  tenant: string | undefined;
  handlerName: string;
}

export type WaitOutcome = "woken" | "timeout" | "aborted";

/** One poller's registration: armed before its claim query, so a dispatch during the query is not missed. */
export interface WaitTicket {
  /** Resolves when a task of the key may be ready (at once if one came since the ticket was taken), after `ms`, or on abort. */
  wait(ms: number, signal?: AbortSignal): Promise<WaitOutcome>;
  /** Unregisters; call it when the poll answers. */
  dispose(): void;
}

interface Waiter {
  notified: boolean;
  resolve?: (outcome: WaitOutcome) => void;
}

const ANY_TENANT = "\u0000any";
const keyOf = (tenant: string | undefined, handlerName: string) => `${tenant ?? ANY_TENANT}\u0000${handlerName}`;

/**
 * The long-pollers of this process, by (tenant, handler). `count` ready tasks wake that many
 * waiting pollers of their key (and of any tenant), longest waiting first, rather than the whole
 * herd; they claim with SKIP LOCKED, and one that loses the race looks once more soon after.
 */
export class TaskWaiters {
  private readonly byKey = new Map<string, Set<Waiter>>();
  private closed = false;

  register(key: TaskQueueKey): WaitTicket {
    const k = keyOf(key.tenant, key.handlerName);
    const waiter: Waiter = { notified: false };
    let set = this.byKey.get(k);
    if (!set) this.byKey.set(k, (set = new Set()));
    set.add(waiter);
    const dispose = () => {
      set.delete(waiter);
      if (set.size === 0 && this.byKey.get(k) === set) this.byKey.delete(k);
    };
    return {
      dispose,
      wait: (ms, signal) => {
        if (waiter.notified) {
          waiter.notified = false;
          return Promise.resolve("woken");
        }
        if (signal?.aborted || this.closed) return Promise.resolve("aborted");
        return new Promise<WaitOutcome>((resolve) => {
          const done = (outcome: WaitOutcome) => {
            clearTimeout(timer);
            signal?.removeEventListener("abort", onAbort);
            waiter.resolve = undefined;
            waiter.notified = false;
            resolve(outcome);
          };
          const onAbort = () => done("aborted");
          const timer = setTimeout(() => done("timeout"), Math.max(0, ms));
          signal?.addEventListener("abort", onAbort, { once: true });
          waiter.resolve = done;
        });
      },
    };
  }

  /**
   * `count` tasks of this tenant and handler may be ready: wake up to that many waiting pollers.
   * Pollers busy claiming right now are flagged instead (their query may have missed the task), so
   * they look again before they wait.
   */
  notify(tenant: string, handlerName: string, count = Number.POSITIVE_INFINITY): void {
    let left = count;
    for (const k of [keyOf(tenant, handlerName), keyOf(undefined, handlerName)]) {
      for (const waiter of this.byKey.get(k) ?? []) {
        if (!waiter.resolve) waiter.notified = true;
        else if (left > 0) {
          left--;
          waiter.resolve("woken");
        }
      }
    }
  }

  /** The service is shutting down: every wait ends now (as if aborted), and later ones at once. */
  close(): void {
    this.closed = true;
    for (const set of this.byKey.values()) for (const waiter of set) waiter.resolve?.("aborted");
  }

  /** Pollers waiting now (for tests and logs). */
  get size(): number {
    let n = 0;
    for (const set of this.byKey.values()) n += set.size;
    return n;
  }
}
