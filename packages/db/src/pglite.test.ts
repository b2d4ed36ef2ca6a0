import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { eq, sql } from "drizzle-orm";
import { isUniqueViolation, migrate, openDatabase, pgliteReferenceCount, queryRows } from "./index";
import { fixtureMigrationsFor, type FixtureMigrations } from "./fixtures/fixture-migrations";
import { fixtureSchema, widgets } from "./fixtures/fixture-schema";

const logger = pino({ level: process.env.LOG_LEVEL ?? "silent" });

describe("embedded PGlite", () => {
  let dataDir: string;
  let fixture: FixtureMigrations;
  const migrationsFolder = () => fixture.folder;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "cloudforet-pglite-"));
    // The generated migrations target schema `fixture`, which is what the drizzle tables use.
    fixture = await fixtureMigrationsFor(fixtureSchema.schemaName);
  });

  afterAll(async () => {
    await fixture?.remove();
    await rm(dataDir, { recursive: true, force: true });
  });

  it("migrates, inserts and selects through drizzle", async () => {
    const handle = await openDatabase({ dataDir, schema: "fixture", logger });
    try {
      expect(handle.kind).toBe("pglite");
      await handle.ping();
      expect(await migrate(handle, { migrationsFolder: migrationsFolder(), schema: "fixture", logger })).toEqual({
        applied: 2,
        total: 2,
      });

      await handle.db.insert(widgets).values({ name: "gear", quantity: 7 });
      const rows = await handle.db
        .select({ name: widgets.name, quantity: widgets.quantity })
        .from(widgets)
        .where(eq(widgets.name, "gear"));
      expect(rows).toEqual([{ name: "gear", quantity: 7 }]);

      const counted = await handle.db.transaction(async (tx) => {
        await tx.update(widgets).set({ quantity: 8 }).where(eq(widgets.name, "gear"));
        return queryRows<{ quantity: number }>(tx, sql`select quantity from fixture.widgets`);
      });
      expect(counted).toEqual([{ quantity: 8 }]);
    } finally {
      await handle.close();
    }
  });

  it("shares one instance per data directory and closes it with the last reference", async () => {
    const identity = await openDatabase({ dataDir, schema: "identity", logger });
    const inventory = await openDatabase({ dataDir, schema: "inventory", logger });
    expect(pgliteReferenceCount(dataDir)).toBe(2);

    // Both services see the same database: one writes, the other reads.
    await identity.db.execute(sql`create schema if not exists identity`);
    await identity.db.execute(sql`create table identity.users (id text primary key)`);
    await identity.db.execute(sql`insert into identity.users values ('u-1')`);
    expect(await queryRows(inventory.db, sql`select id from identity.users`)).toEqual([{ id: "u-1" }]);

    await identity.close();
    await identity.close(); // closing twice releases once
    expect(pgliteReferenceCount(dataDir)).toBe(1);
    await inventory.ping();

    await inventory.close();
    expect(pgliteReferenceCount(dataDir)).toBe(0);
  });

  it("keeps data on disk across restarts", async () => {
    const handle = await openDatabase({ dataDir, schema: "fixture", logger });
    try {
      expect(await migrate(handle, { migrationsFolder: migrationsFolder(), schema: "fixture", logger })).toEqual({
        applied: 0,
        total: 2,
      });
      expect(await handle.db.select({ name: widgets.name }).from(widgets)).toEqual([{ name: "gear" }]);
    } finally {
      await handle.close();
    }
  });

  it("runs concurrent transactions of several services on the one connection", async () => {
    const a = await openDatabase({ dataDir, schema: "a", logger });
    const b = await openDatabase({ dataDir, schema: "b", logger });
    try {
      await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          (i % 2 ? a : b).db.transaction(async (tx) => {
            await tx.insert(widgets).values({ name: `w-${i}` });
            await tx.update(widgets).set({ quantity: i }).where(eq(widgets.name, `w-${i}`));
          }),
        ),
      );
      const [{ count }] = await queryRows<{ count: number }>(
        a.db,
        sql`select count(*)::int as count from fixture.widgets where name like 'w-%'`,
      );
      expect(count).toBe(10);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it("reports a duplicate key as a unique violation", async () => {
    const handle = await openDatabase({ dataDir, schema: "fixture", logger });
    try {
      const failure = await handle.db
        .insert(widgets)
        .values({ name: "gear" })
        .then(() => undefined, (err: unknown) => err);
      expect(isUniqueViolation(failure)).toBe(true);
    } finally {
      await handle.close();
    }
  });
});
