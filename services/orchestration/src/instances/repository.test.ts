import { randomUUID } from "node:crypto";
import { fileURLToPath } from "node:url";
import { migrate, openDatabase, type DatabaseHandle } from "@cloudforet/db";
import { createLogger } from "@cloudforet/runtime";
import { createTestDatabase, type TestDatabase } from "@cloudforet/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { emptyExecution } from "../engine/execution-state";
import { InstanceRepository, type NewInstanceRow } from "./repository";
import { normalizeContext } from "./rules";

const logger = createLogger("orchestration-test", "silent");
let database: TestDatabase;
let handle: DatabaseHandle;
let repo: InstanceRepository;

beforeAll(async () => {
  database = await createTestDatabase("orch_instance_insert");
  handle = await openDatabase({ url: database.url, schema: "orchestration", logger });
  await migrate(handle, { migrationsFolder: fileURLToPath(new URL("../../drizzle", import.meta.url)), schema: "orchestration", logger });
  repo = new InstanceRepository(handle.db);
});

afterAll(async () => {
  await handle?.close();
  await database?.drop();
});

const sequenceId = randomUUID();

/** A row as Instances.prepare makes it, with `fields` changed. */
function row(fields: Partial<NewInstanceRow> = {}): NewInstanceRow {
  return {
    id: randomUUID(),
    sequenceId,
    domainId: "acme",
    tenantId: "acme",
    namespace: "insert",
    state: "scheduled",
    nextFireAt: new Date("2030-01-02T03:04:05.678Z"),
    priority: "normal",
    priorityRank: 1,
    timezone: "UTC",
    metadata: {},
    context: normalizeContext(undefined, "context"),
    execution: emptyExecution(),
    kv: {},
    concurrencyKey: null,
    maxConcurrency: null,
    idempotencyKey: null,
    ...fields,
  };
}

describe("InstanceRepository.insertMany", () => {
  it("stores every value as given, whether it is the usual one (left out of the statement's JSON) or not", async () => {
    const usual = row();
    const unusual = row({
      priority: "high",
      priorityRank: 2,
      timezone: "Europe/Berlin",
      metadata: { team: "ops" },
      // Each differs from the usual value in one place only: a section's content, an empty key
      // more, an array where an object is usual, a number of another value.
      context: { ...normalizeContext(undefined, "context"), data: { n: 1 } },
      execution: { nodes: {}, seq: 3 },
      kv: { "": {} },
      concurrencyKey: "k",
      maxConcurrency: 2,
      idempotencyKey: "idem-1",
    });
    const arrayContext = row({ context: { ...normalizeContext(undefined, "context"), audit: {} as never } });
    const ids = await repo.insertMany([usual, unusual, arrayContext]);
    expect(ids.sort()).toEqual([usual.id, unusual.id, arrayContext.id].sort());

    for (const written of [usual, unusual, arrayContext]) {
      const stored = await repo.getById(written.id);
      const fields = ["priority", "priorityRank", "timezone", "metadata", "context", "execution", "kv", "concurrencyKey", "maxConcurrency", "idempotencyKey", "nextFireAt"] as const;
      // toEqual, not toMatchObject: an object must not pass for an array.
      expect(Object.fromEntries(fields.map((f) => [f, stored?.[f]]))).toEqual(Object.fromEntries(fields.map((f) => [f, written[f]])));
    }
  });

  it("skips a row whose idempotency key the tenant used, and counts only the rows inserted", async () => {
    const first = row({ idempotencyKey: "again" });
    expect(await repo.insertMany([first])).toEqual([first.id]);
    const again = row({ idempotencyKey: "again" });
    const other = row();
    expect(await repo.insertMany([again, other])).toEqual([other.id]);
    const third = row({ idempotencyKey: "again" });
    expect(await repo.insertAll([third, row(), row()])).toBe(2);
    expect(await repo.getById(third.id)).toBeUndefined();
  });

  it("inserts more rows than one statement takes, all in one transaction", async () => {
    const rows = Array.from({ length: 2_500 }, (_, i) => row(i % 2 ? { metadata: { i } } : {}));
    expect(await repo.insertAll(rows)).toBe(2_500);
    // A chunk the database refuses rolls back the chunks written before it.
    const bad = Array.from({ length: 1_500 }, () => row({ namespace: "rollback" }));
    bad[1_200] = { ...bad[1_200], priorityRank: 70_000 }; // out of smallint range
    await expect(repo.insertAll(bad)).rejects.toThrow();
    expect(await repo.count({ namespace: "rollback" })).toBe(0);
  });
});
