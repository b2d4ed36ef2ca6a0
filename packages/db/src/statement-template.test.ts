import { sql } from "drizzle-orm";
import { PgDialect } from "drizzle-orm/pg-core";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testDatabaseUrl } from "@cloudforet/testing";
import { openDatabase, queryRows, statementTemplate, type DatabaseHandle } from "./index";

const logger = pino({ level: process.env.LOG_LEVEL ?? "silent" });
const dialect = new PgDialect();

describe("statementTemplate", () => {
  let handle: DatabaseHandle;
  beforeAll(async () => {
    handle = await openDatabase({ url: testDatabaseUrl(), schema: "statement_template", logger, poolSize: 1 });
  });
  afterAll(async () => {
    await handle?.close();
  });

  it("renders its statement once, then binds each call's values (a value used twice, a constant of the text kept)", async () => {
    let builds = 0;
    const sum = statementTemplate(["a", "b"], (holes) => {
      builds++;
      return sql`select ${holes.a}::int + ${holes.b}::int + ${holes.a}::int as total, ${"fixed"}::text as label`;
    });
    const first = await queryRows<{ total: number; label: string }>(handle.db, sum({ a: 1, b: 10 }));
    const second = await queryRows<{ total: number; label: string }>(handle.db, sum({ a: 5, b: 100 }));
    expect(first).toEqual([{ total: 12, label: "fixed" }]);
    expect(second).toEqual([{ total: 110, label: "fixed" }]);
    expect(builds).toBe(1);
    // The bound statement is the text Drizzle rendered, with the values in order.
    const bound = dialect.sqlToQuery(sum({ a: 2, b: 3 }));
    expect(bound.sql).toBe("select $1::int + $2::int + $3::int as total, $4::text as label");
    expect(bound.params).toEqual([2, 3, 2, "fixed"]);
  });

  it("keeps a value out of the text: one that looks like SQL is a parameter", async () => {
    const echo = statementTemplate(["text"], (holes) => sql`select ${holes.text}::text as text`);
    const hostile = "'; drop table x; --";
    expect(await queryRows(handle.db, echo({ text: hostile }))).toEqual([{ text: hostile }]);
  });
});
