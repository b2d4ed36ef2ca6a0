import type { JsonObject } from "@bufbuild/protobuf";
import type { Client } from "@cloudforet/sdk";
import { JobSchema } from "@cloudforet/proto/cloudforet/inventory/v1/job_pb";
import { InstanceServiceWatchResponseSchema } from "@cloudforet/proto/cloudforet/orchestration/v1/instance_pb";
import { canonical } from "./apply/compare";
import { messageJson } from "./message-json";

/**
 * `cfctl list <resource> --watch` for the resources whose service has a Watch RPC: after the
 * list, the changes of every listed item that has not ended yet, as rows of the list's shape,
 * until each has ended (or the user interrupts).
 */
export interface Watcher {
  changes(client: Client, listed: JsonObject[], signal: AbortSignal): AsyncIterable<JsonObject>;
}

const FINAL_JOB_STATUSES = new Set(["FINISHED", "FAILURE", "CANCELED", "TIMEOUT"]);
const FINAL_INSTANCE_STATES = new Set(["COMPLETED", "FAILED", "CANCELLED"]);

const WATCHERS: Record<string, Watcher> = {
  // JobService.Watch follows one job: one stream per running job, merged.
  jobs: {
    changes(client, listed, signal) {
      const running = listed.filter((job) => !FINAL_JOB_STATUSES.has(String(job.status)));
      return distinct(
        "job_id",
        listed,
        merge(
          running.map((job) =>
            map(client.inventory.jobs.watch(String(job.job_id), { signal }), (event) => (event.job ? messageJson(JobSchema, event.job) : undefined)),
          ),
        ),
      );
    },
  },
  // InstanceService.Watch follows many ids in one stream and ends when all are terminal.
  instances: {
    changes(client, listed, signal) {
      const ids = listed.filter((i) => !FINAL_INSTANCE_STATES.has(String(i.state))).map((i) => String(i.id));
      if (ids.length === 0) return empty();
      return distinct("id", listed, map(client.orchestration.instances.watch({ ids }, { signal }), (event) => messageJson(InstanceServiceWatchResponseSchema, event)));
    },
  },
};

/** The watcher of a resource (by its plural name), when its service can stream changes. */
export function watcherOf(resourceName: string): Watcher | undefined {
  return WATCHERS[resourceName];
}

export const WATCHABLE = Object.keys(WATCHERS);

/** Drops events that repeat what was last printed for the same item (a stream's opening snapshot). */
async function* distinct(idField: string, listed: JsonObject[], events: AsyncIterable<JsonObject | undefined>): AsyncIterable<JsonObject> {
  const last = new Map(listed.map((item) => [String(item[idField]), canonical(item)]));
  for await (const event of events) {
    if (!event) continue;
    const id = String(event[idField]);
    const text = canonical(event);
    if (last.get(id) === text) continue;
    last.set(id, text);
    yield event;
  }
}

async function* map<T, U>(source: AsyncIterable<T>, fn: (value: T) => U): AsyncIterable<U> {
  for await (const value of source) yield fn(value);
}

async function* empty<T>(): AsyncIterable<T> {}

/** The events of several streams as they arrive; ends when all have ended, fails when one fails. */
async function* merge<T>(sources: AsyncIterable<T>[]): AsyncIterable<T> {
  const iterators = sources.map((s) => s[Symbol.asyncIterator]());
  const pending = new Map<number, Promise<{ index: number; result: IteratorResult<T> }>>();
  const next = (index: number) => pending.set(index, iterators[index].next().then((result) => ({ index, result })));
  iterators.forEach((_, i) => next(i));
  try {
    while (pending.size > 0) {
      const { index, result } = await Promise.race(pending.values());
      if (result.done) pending.delete(index);
      else {
        next(index);
        yield result.value;
      }
    }
  } finally {
    await Promise.allSettled(iterators.map((it) => it.return?.()));
  }
}
