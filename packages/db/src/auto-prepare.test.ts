import { sql } from "drizzle-orm";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testDatabaseUrl } from "@cloudforet/testing";
import { RecurringTexts, PREPARE_THRESHOLD } from "./auto-prepare";
import { openDatabase, type DatabaseHandle } from "./index";

const logger = pino({ level: process.env.LOG_LEVEL ?? "silent" });

/** The statements prepared on the pool's one connection (pool size 1: the same backend answers). */
async function preparedTexts(handle: DatabaseHandle): Promise<string[]> {
  const rows = await handle.db.execute(sql`select statement from pg_prepared_statements`);
  return Array.from(rows as unknown as { statement: string }[]).map((row) => row.statement);
}

describe("recurring statements become named prepared statements", () => {
  let handle: DatabaseHandle;
  let unprepared: DatabaseHandle;

  beforeAll(async () => {
    handle = await openDatabase({ url: testDatabaseUrl(), schema: "auto_prepare", logger, poolSize: 1 });
    unprepared = await openDatabase({ url: testDatabaseUrl(), schema: "auto_prepare_off", logger, poolSize: 1, preparedStatements: false });
  });
  afterAll(async () => {
    await handle?.close();
    await unprepared?.close();
  });

  it("prepares a text once it recurs, in and out of transactions; a one-off stays unnamed", async () => {
    const recurring = (n: number) => sql`select ${n}::int + 1 as next /* recurring */`;
    for (let n = 0; n < PREPARE_THRESHOLD + 2; n++) {
      const rows = Array.from((await handle.db.execute(recurring(n))) as unknown as { next: number }[]);
      expect(rows[0].next).toBe(n + 1);
    }
    await handle.db.execute(sql`select ${1}::int as once /* one-off */`);
    await handle.db.transaction(async (tx) => {
      for (let n = 0; n < PREPARE_THRESHOLD; n++) await tx.execute(sql`select ${n}::int as inside /* in a transaction */`);
      await tx.transaction(async (nested) => {
        for (let n = 0; n < PREPARE_THRESHOLD; n++) await nested.execute(sql`select ${n}::int as nested /* in a savepoint */`);
      });
    });
    const texts = await preparedTexts(handle);
    expect(texts.filter((text) => text.includes("/* recurring */"))).toHaveLength(1);
    expect(texts.some((text) => text.includes("/* in a transaction */"))).toBe(true);
    expect(texts.some((text) => text.includes("/* in a savepoint */"))).toBe(true);
    expect(texts.some((text) => text.includes("/* one-off */"))).toBe(false);
  });

  it("plans a prepared statement for its parameters on every run, never once for all values", async () => {
    // Postgres's default would switch to one generic plan after five custom ones; a generic plan
    // chosen for one value's statistics served a List at 1,000,000 rows 70 times slower.
    for (let n = 0; n < PREPARE_THRESHOLD + 10; n++) await handle.db.execute(sql`select ${n}::int * 2 as twice /* planned each time */`);
    const rows = await handle.db.execute(sql`select generic_plans, custom_plans from pg_prepared_statements where statement like '%/* planned each time */%'`);
    const [plans] = Array.from(rows as unknown as { generic_plans: string | number; custom_plans: string | number }[]);
    expect(Number(plans.generic_plans)).toBe(0);
    expect(Number(plans.custom_plans)).toBeGreaterThanOrEqual(10);
  });

  it("with genericPlans (statements that find rows by key), lets Postgres plan a statement once for all values", async () => {
    const keyed = await openDatabase({ url: testDatabaseUrl(), schema: "auto_prepare_generic", logger, poolSize: 1, genericPlans: true });
    try {
      for (let n = 0; n < PREPARE_THRESHOLD + 10; n++) await keyed.db.execute(sql`select ${n}::int * 3 as thrice /* planned once */`);
      const rows = await keyed.db.execute(sql`select generic_plans from pg_prepared_statements where statement like '%/* planned once */%'`);
      expect(Number(Array.from(rows as unknown as { generic_plans: string | number }[])[0].generic_plans)).toBeGreaterThan(0);
    } finally {
      await keyed.close();
    }
  });

  it("prepares nothing when switched off (a transaction-mode pooler), not even a statement asking for it", async () => {
    for (let n = 0; n < PREPARE_THRESHOLD + 2; n++) await unprepared.db.execute(sql`select ${n}::int as off /* switched off */`);
    const client = (unprepared.db as unknown as { $client: { unsafe(q: string, p: unknown[], o: { prepare: boolean }): Promise<unknown> } }).$client;
    await client.unsafe("select $1::int as asked /* asked to prepare */", [1], { prepare: true });
    expect((await preparedTexts(unprepared)).filter((text) => text.includes("/* switched off */") || text.includes("/* asked to prepare */"))).toEqual([]);
  });

  it("remembers a bounded number of texts", () => {
    const texts = new RecurringTexts();
    expect(texts.note("a")).toBe(PREPARE_THRESHOLD <= 1);
    for (let i = 0; i < 5_000; i++) texts.note(`one-off ${i}`);
    // "a" was forgotten among the one-offs: its count starts again.
    expect(texts.note("a")).toBe(PREPARE_THRESHOLD <= 1);
    expect(texts.note("a")).toBe(true);
  });
});
