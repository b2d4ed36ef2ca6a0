import { PgDialect } from "drizzle-orm/pg-core";
import { describe, expect, it } from "vitest";
import { compileQuery } from "./compile-query";
import { compileStat } from "./compile-stat";
import { col, defineQueryFields, json } from "./field-map";
import { cloudServiceFields, cloudServiceTable } from "./test-support/cloud-service-fixture";

const table = cloudServiceTable("svc");
const fields = cloudServiceFields(table);
const dialect = new PgDialect();

describe("compileQuery", () => {
  it("keeps every value and path segment out of the SQL text", () => {
    const hostile = "x'); DROP TABLE t; --/*";
    const compiled = compileQuery(fields, {
      filter: [
        { k: "name", v: hostile },
        { k: "data.evil--key", v: hostile, o: "contain" },
        { k: "tags.a-b", v: [hostile, 1, true, null], o: "in" },
        { k: "data.note", v: "^x'", o: "regex" },
      ],
      keyword: hostile,
      sort: { key: "data.some_key", desc: true },
    });
    const where = dialect.sqlToQuery(compiled.where!);
    for (const text of [hostile, "evil--key", "a-b", "^x'", "some_key"]) expect(where.sql).not.toContain(text);
    expect(where.params).toContain(hostile);
    // A path of named segments travels one bound text parameter per segment.
    expect(where.params).toContain("evil--key");
    const order = dialect.sqlToQuery(compiled.orderBy[0]);
    expect(order.sql).not.toContain("some_key");
    expect(order.params).toEqual(["some_key"]);
  });

  it("returns page, only and count_only, with the default sort as tie-breakers", () => {
    const compiled = compileQuery(fields, { sort: { key: "name" }, page: { start: 10, limit: 20 }, only: ["name", "data.cluster"], count_only: true });
    expect(compiled).toMatchObject({ limit: 20, offset: 10, only: ["name", "data.cluster"], countOnly: true });
    // NOT NULL columns carry no NULLS clause, so a btree scanned either way serves the sort.
    expect(compiled.orderBy.map((order) => dialect.sqlToQuery(order).sql)).toEqual([
      '"svc"."cloud_service"."name" ASC',
      '"svc"."cloud_service"."created_at" ASC',
      '"svc"."cloud_service"."cloud_service_id" ASC',
    ]);
    const descending = compileQuery(fields, { sort: [{ key: "name", desc: true }, { key: "data.cluster", desc: true }] });
    expect(descending.orderBy.map((order) => dialect.sqlToQuery(order).sql).slice(0, 2)).toEqual([
      '"svc"."cloud_service"."name" DESC',
      // JSON null sorts with missing values: both last, either direction.
      `NULLIF(("svc"."cloud_service"."data" -> $1::text), 'null'::jsonb) DESC NULLS LAST`,
    ]);
    expect(compileQuery(fields, {}).where).toBeUndefined();
  });

  it("puts a statistic's group keys first and groups by their positions", () => {
    const compiled = compileStat(fields, { aggregate: [{ group: { keys: ["data.cluster"] }, statistics: { count: {} } }] });
    expect(Object.keys(compiled.selection)).toEqual(["g0", "s0"]);
    expect(compiled.outputs).toEqual([
      { alias: "g0", name: "cluster" },
      { alias: "s0", name: "count" },
    ]);
    expect(compiled.groupBy.map((group) => dialect.sqlToQuery(group).sql)).toEqual(["1"]);
  });
});

describe("defineQueryFields", () => {
  it("infers kinds from the columns", () => {
    expect([...fields.fields].map(([name, field]) => [name, field.kind])).toEqual([
      ["cloud_service_id", "string"],
      ["name", "string"],
      ["provider", "string"],
      ["cloud_service_type", "string"],
      ["state", "string"],
      ["account", "string"],
      ["data", "json"],
      ["tags", "json"],
      ["created_at", "datetime"],
    ]);
    expect(col(table.data).kind).toBe("json");
    expect(json(table.data).kind).toBe("json");
  });

  it("refuses a field map that names fields it lacks, or bad names", () => {
    expect(() => defineQueryFields({ name: col(table.name) }, { keywordFields: ["title"] })).toThrow(/title/);
    expect(() => defineQueryFields({ name: col(table.name) }, { defaultSort: { key: "created_at" } })).toThrow(/created_at/);
    expect(() => defineQueryFields({ "bad name": col(table.name) })).toThrow(/bad name/);
  });

  it("caps the JSON depth at the field map's own limit", () => {
    const shallow = defineQueryFields({ data: json(table.data) }, { maxPathDepth: 1 });
    expect(() => compileQuery(shallow, { filter: [{ k: "data.a.b", v: 1 }] })).toThrow(/at most 1 levels/);
    expect(compileQuery(shallow, { filter: [{ k: "data.a", v: 1 }] }).where).toBeDefined();
  });
});
