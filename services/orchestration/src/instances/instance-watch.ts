import { and, asc, eq, gt, inArray, type SQL } from "drizzle-orm";
import type { Database } from "@cloudforet/db";
import { invalidParameter } from "@cloudforet/errors";
import { inScope, ownerWhere, type OwnerScope } from "../access/tenants";
import { instances, type InstanceRow } from "../db/schema";
import { isUuid } from "../ids";
import type { Instances } from "./instances";
import { TERMINAL_STATES, type InstanceState } from "./rules";
import type { StateChange, StateChanges } from "./state-changes";

export interface WatchRequest extends OwnerScope {
  /** Follow these instances: snapshot first, then changes, end when all are terminal. */
  ids: string[];
  namespace?: string;
  sequenceId?: string;
  /** New states to report (filter mode); all when empty. */
  states: InstanceState[];
}

export interface WatchEvent extends StateChange {
  initial: boolean;
}

export interface WatchOptions {
  /** How often the stream re-reads the database for changes it was not told about (default 1 s). */
  rereadMs?: number;
}

const TERMINAL = new Set<string>(TERMINAL_STATES);
const MAX_IDS = 1_000;
/** Instances a filter-mode stream remembers the state of (oldest forgotten first). */
const MAX_REMEMBERED = 10_000;
/** A notification this recent wins over a re-read (which may have read before the notifying commit). */
const HINT_FRESH_MS = 1_500;

const changeOf = (row: InstanceRow): StateChange => ({
  id: row.id,
  sequenceId: row.sequenceId,
  domainId: row.domainId,
  tenantId: row.tenantId,
  namespace: row.namespace,
  state: row.state,
  nextFireAt: row.nextFireAt?.toISOString() ?? null,
  updatedAt: row.updatedAt.toISOString(),
});

/**
 * One InstanceService.Watch stream. Driven by the engine's state-change notifications (this
 * process's and, over the bus, the other replicas'); a slow re-read of the database catches what no
 * notification reports (state changes through the API, a lost bus message). Ends when `signal`
 * aborts (the client went away) or, with ids, when every instance is terminal.
 */
export async function* watchInstances(
  deps: { db: Database; instances: Instances; changes: StateChanges },
  request: WatchRequest,
  signal: AbortSignal,
  options: WatchOptions = {},
): AsyncGenerator<WatchEvent> {
  const ids = [...new Set(request.ids.map((id) => id.toLowerCase()))];
  if (ids.length > MAX_IDS) throw invalidParameter(`ids holds ${ids.length}; at most ${MAX_IDS}`, { parameter: "ids" });
  if (request.sequenceId !== undefined && !isUuid(request.sequenceId)) throw invalidParameter("sequence_id must be a UUID", { parameter: "sequence_id" });
  const followIds = ids.length > 0;
  const wanted = new Set(ids);
  const states = new Set<string>(request.states);
  const matches = (c: StateChange) =>
    followIds
      ? wanted.has(c.id)
      : inScope(c, request) &&
        (request.namespace === undefined || c.namespace === request.namespace) &&
        (request.sequenceId === undefined || c.sequenceId === request.sequenceId.toLowerCase()) &&
        (states.size === 0 || states.has(c.state));

  // What this stream last reported per instance, and when a notification last told it.
  const known = new Map<string, string>();
  const hintedAt = new Map<string, number>();
  const remember = (id: string, state: string) => {
    known.delete(id);
    known.set(id, state);
    if (known.size > MAX_REMEMBERED) known.delete(known.keys().next().value!);
  };

  const queue: WatchEvent[] = [];
  let wake: (() => void) | undefined;
  const push = (change: StateChange, initial: boolean) => {
    const previous = known.get(change.id);
    if (!initial && previous === change.state) return;
    remember(change.id, change.state);
    queue.push({ ...change, previousState: initial ? undefined : (change.previousState ?? previous), initial });
    wake?.();
  };
  const unsubscribe = deps.changes.subscribe((change) => {
    if (!matches(change)) {
      // Filter mode: a change to a state not asked for still moves what "previous" means.
      if (!followIds && known.has(change.id)) remember(change.id, change.state);
      return;
    }
    hintedAt.set(change.id, Date.now());
    push(change, false);
  });
  const onAbort = () => wake?.();
  signal.addEventListener("abort", onAbort);
  const openedAt = new Date();
  let cursor = new Date(openedAt.getTime() - 1_000);
  const rereadMs = options.rereadMs ?? 1_000;

  const reread = async () => {
    const conditions: SQL[] = [];
    if (followIds) conditions.push(inArray(instances.id, ids));
    else {
      conditions.push(gt(instances.updatedAt, cursor));
      const owner = ownerWhere(instances, request);
      if (owner) conditions.push(owner);
      if (request.namespace !== undefined) conditions.push(eq(instances.namespace, request.namespace));
      if (request.sequenceId !== undefined) conditions.push(eq(instances.sequenceId, request.sequenceId.toLowerCase()));
    }
    const rows = await deps.db
      .select()
      .from(instances)
      .where(and(...conditions))
      .orderBy(asc(instances.updatedAt))
      .limit(followIds ? MAX_IDS : 500);
    for (const row of rows) {
      if (!followIds && row.updatedAt > cursor) cursor = row.updatedAt;
      if (Date.now() - (hintedAt.get(row.id) ?? 0) < HINT_FRESH_MS) continue;
      const previous = known.get(row.id);
      if (previous === row.state) continue;
      // Filter mode: an instance this stream never saw is reported only when it is new.
      if (!followIds && previous === undefined && row.createdAt < openedAt) {
        remember(row.id, row.state);
        continue;
      }
      if (!followIds && states.size > 0 && !states.has(row.state)) {
        remember(row.id, row.state);
        continue;
      }
      push(changeOf(row), false);
    }
  };

  try {
    if (followIds) {
      // Subscribed before the snapshot, so nothing committed in between is lost (push dedupes).
      const rows = await Promise.all(ids.map((id) => deps.instances.get(id, request)));
      for (const row of rows) push(changeOf(row), true);
    }
    let nextReread = Date.now() + rereadMs;
    for (;;) {
      while (queue.length > 0) {
        if (signal.aborted) return;
        yield queue.shift()!;
      }
      if (signal.aborted) return;
      if (followIds && ids.every((id) => TERMINAL.has(known.get(id) ?? ""))) return;
      const wait = nextReread - Date.now();
      if (wait > 0) {
        await new Promise<void>((resolve) => {
          const done = () => {
            clearTimeout(timer);
            wake = undefined;
            resolve();
          };
          const timer = setTimeout(done, wait);
          timer.unref();
          wake = done;
        });
      }
      if (signal.aborted) return;
      if (Date.now() >= nextReread) {
        await reread();
        nextReread = Date.now() + rereadMs;
      }
    }
  } finally {
    unsubscribe();
    signal.removeEventListener("abort", onAbort);
  }
}
