import { afterAll, beforeAll, describe, expect, it } from "vitest";
import net from "node:net";
import pino from "pino";
import { sql } from "drizzle-orm";
import { createTestSchema, testDatabaseUrl, type TestSchema } from "@cloudforet/testing";
import { isConnectionError, isUniqueViolation, openDatabase, sqlState, violatedConstraint } from "./index";

const logger = pino({ level: process.env.LOG_LEVEL ?? "silent" });

/** A port nothing listens on: bind one, then close it. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe("database error classification", () => {
  let test: TestSchema;

  beforeAll(async () => {
    test = await createTestSchema("db_errors");
    await test.sql`create table things (name text constraint things_name_key unique)`;
  });
  afterAll(async () => test?.drop());

  it("recognises a unique violation from postgres.js through drizzle", async () => {
    const handle = await openDatabase({ url: testDatabaseUrl(), schema: test.schema, logger, poolSize: 1 });
    try {
      const insert = () => handle.db.execute(sql`insert into ${sql.identifier(test.schema)}.things values ('a')`);
      await insert();
      const failure = await insert().then(() => undefined, (err: unknown) => err);
      expect(isUniqueViolation(failure)).toBe(true);
      expect(sqlState(failure)).toBe("23505");
      expect(violatedConstraint(failure)).toBe("things_name_key");
      expect(isConnectionError(failure)).toBe(false);
    } finally {
      await handle.close();
    }
  });

  it("recognises a refused Postgres connection", async () => {
    const url = `postgres://postgres@127.0.0.1:${await closedPort()}/postgres`;
    const handle = await openDatabase({ url, schema: test.schema, logger, connectTimeoutSeconds: 2 });
    try {
      const failure = await handle.ping().then(() => undefined, (err: unknown) => err);
      expect(failure).toBeDefined();
      expect(isConnectionError(failure)).toBe(true);
      expect(isUniqueViolation(failure)).toBe(false);
    } finally {
      await handle.close();
    }
  });

  it("recognises a query on a closed PGlite", async () => {
    const handle = await openDatabase({ dataDir: "memory://db-errors", schema: "x", logger });
    const { db } = handle;
    await handle.close();
    const failure = await db.execute(sql`select 1`).then(() => undefined, (err: unknown) => err);
    expect(isConnectionError(failure)).toBe(true);
  });

  it("leaves ordinary errors alone", () => {
    expect(isConnectionError(new Error("boom"))).toBe(false);
    expect(isUniqueViolation(new Error("boom"))).toBe(false);
    expect(isUniqueViolation(undefined)).toBe(false);
  });
});
