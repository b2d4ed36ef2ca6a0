import { create, fromJson } from "@bufbuild/protobuf";
import { ValueSchema } from "@bufbuild/protobuf/wkt";
import { createTestSchema, type TestSchema } from "@cloudforet/testing";
import { FilterSchema, QuerySchema } from "@cloudforet/proto/cloudforet/common/v1/query_pb";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { QueryFields } from "./field-map";
import { listWith, selectionPlan } from "./list-with";
import { cloudServiceFields, createCloudServices, type CloudServiceTable } from "./test-support/cloud-service-fixture";
import { expectInvalid } from "./test-support/expect-invalid";

let test: TestSchema;
let table: CloudServiceTable;
let fields: QueryFields;

beforeAll(async () => {
  test = await createTestSchema("query_list");
  table = await createCloudServices(test);
  fields = cloudServiceFields(table);
});

afterAll(async () => {
  await test?.drop();
});

/** Seed 000, "Query Cloud Services", verbatim. */
const seedRequest = {
  query: {
    filter: [
      { k: "provider", v: "nutanix", o: "eq" },
      { k: "cloud_service_type", v: "compute.Instance", o: "eq" },
      { k: "state", v: "ON", o: "eq" },
      { k: "account", v: "sa-prod-cluster-01", o: "eq" },
      { k: "tags.environment", v: "production", o: "eq" },
    ],
    sort: { key: "name", desc: false },
    page: { start: 0, limit: 50 },
    only: ["cloud_service_id", "name", "state", "account", "data"],
  },
};

/** Seed 000's response rows. */
const seedResults = [
  {
    cloud_service_id: "cs-zzzzzzzz-zzzz-zzzz-zzzz-zzzzzzzzzzzz",
    name: "prod-web-server-01",
    state: "ON",
    account: "sa-prod-cluster-01",
    data: { cpu_cores: 8, memory_gb: 32, cluster: "cluster-prod-01" },
  },
  {
    cloud_service_id: "cs-wwwwwwww-wwww-wwww-wwww-wwwwwwwwwwww",
    name: "prod-web-server-02",
    state: "ON",
    account: "sa-prod-cluster-01",
    data: { cpu_cores: 16, memory_gb: 64, cluster: "cluster-prod-01" },
  },
];

describe("listWith: seed 000 Query Cloud Services", () => {
  it("answers the seed request with the seed's rows first, sorted by name, and total_count 45", async () => {
    const response = await listWith(test.db, table, fields, seedRequest.query);
    expect(response.total_count).toBe(45);
    expect(response.results).toHaveLength(45);
    expect(response.results.slice(0, 2)).toEqual(seedResults);
    const names = response.results.map((row) => row.name as string);
    expect(names).toEqual([...names].sort());
    expect(names.at(-1)).toBe("staging-app-03");
    for (const row of response.results) {
      expect(Object.keys(row).sort()).toEqual(["account", "cloud_service_id", "data", "name", "state"]);
    }
  });

  it("pages with a 0-based start and keeps total_count", async () => {
    const firstPage = await listWith(test.db, table, fields, { ...seedRequest.query, page: { start: 0, limit: 2 } });
    expect(firstPage).toEqual({ results: seedResults, total_count: 45, total_count_exact: true });
    const lastPage = await listWith(test.db, table, fields, { ...seedRequest.query, page: { start: 44, limit: 50 } });
    expect(lastPage.total_count).toBe(45);
    expect(lastPage.results.map((row) => row.name)).toEqual(["staging-app-03"]);
    const pastTheEnd = await listWith(test.db, table, fields, { ...seedRequest.query, page: { start: 100 } });
    expect(pastTheEnd).toEqual({ results: [], total_count: 45, total_count_exact: true });
  });

  it("gives the same answer for the generated Query message (from the seed's JSON)", async () => {
    const message = fromJson(QuerySchema, seedRequest.query);
    const response = await listWith(test.db, table, fields, message);
    expect(response.total_count).toBe(45);
    expect(response.results.slice(0, 2)).toEqual(seedResults);
  });

  it("gives the same answer for a Query message built field by field", async () => {
    const message = create(QuerySchema, {
      filter: seedRequest.query.filter.map((filter) =>
        create(FilterSchema, { k: filter.k, v: fromJson(ValueSchema, filter.v), o: filter.o }),
      ),
      sort: { key: "name" },
      page: { limit: 2 },
      only: seedRequest.query.only,
    });
    expect(await listWith(test.db, table, fields, message)).toEqual({ results: seedResults, total_count: 45, total_count_exact: true });
  });

  it("sorts descending", async () => {
    const response = await listWith(test.db, table, fields, { ...seedRequest.query, sort: { key: "name", desc: true }, page: { limit: 3 } });
    expect(response.results.map((row) => row.name)).toEqual(["staging-app-03", "staging-app-02", "staging-app-01"]);
  });

  it("sorts by a JSON path numerically", async () => {
    const response = await listWith(test.db, table, fields, {
      filter: [{ k: "provider", v: "nutanix" }, { k: "cloud_service_type", v: "compute.Instance" }],
      sort: [{ key: "data.cpu_cores", desc: true }, { key: "name" }],
      page: { limit: 3 },
      only: ["name", "data.cpu_cores"],
    });
    expect(response.results).toEqual([
      { name: "prod-web-server-42", data: { cpu_cores: 33 } },
      { name: "prod-web-server-02", data: { cpu_cores: 16 } },
      { name: "prod-web-server-03", data: { cpu_cores: 12 } },
    ]);
  });

  it("trims nested paths with only", async () => {
    const response = await listWith(test.db, table, fields, {
      filter: [{ k: "name", v: "prod-web-server-01" }],
      only: ["name", "data.cluster", "tags.environment"],
    });
    expect(response.results).toEqual([{ name: "prod-web-server-01", data: { cluster: "cluster-prod-01" }, tags: { environment: "production" } }]);
  });

  it("returns every field when only is empty", async () => {
    const response = await listWith(test.db, table, fields, { filter: [{ k: "cloud_service_id", v: "cs-aws-01" }] });
    expect(response.results).toEqual([
      {
        cloud_service_id: "cs-aws-01",
        name: "aws-web-01",
        provider: "aws",
        cloud_service_type: "compute.Instance",
        state: "ON",
        account: "sa-prod-cluster-01",
        data: { cluster: "cluster-prod-01", cpu_cores: "lots", memory_gb: null },
        tags: { environment: "production" },
        created_at: expect.any(Date),
      },
    ]);
  });

  it("answers count_only with total_count alone", async () => {
    const response = await listWith(test.db, table, fields, { ...seedRequest.query, count_only: true });
    expect(response).toEqual({ results: [], total_count: 45, total_count_exact: true });
  });

  it("defaults to 100 results and the field map's sort", async () => {
    const response = await listWith(test.db, table, fields, {});
    expect(response.total_count).toBe(67);
    expect(response.results).toHaveLength(67);
    expect(response.results[0].cloud_service_id).toBe("cs-zzzzzzzz-zzzz-zzzz-zzzz-zzzzzzzzzzzz");
    const none = await listWith(test.db, table, fields, undefined);
    expect(none.total_count).toBe(67);
  });

  it("ORs filter_or and ANDs it with filter", async () => {
    const response = await listWith(test.db, table, fields, {
      filter: [{ k: "state", v: "ON" }],
      filter_or: [
        { k: "provider", v: "aws" },
        { k: "cloud_service_type", v: "storage.Volume" },
      ],
      only: ["cloud_service_id"],
    });
    expect(response.results.map((row) => row.cloud_service_id).sort()).toEqual(["cs-aws-01", "cs-volume-01"]);
  });

  it("searches keyword fields case-insensitively", async () => {
    const byName = await listWith(test.db, table, fields, { keyword: "STAGING-app", only: ["name"] });
    expect(byName.results.map((row) => row.name)).toEqual(["staging-app-01", "staging-app-02", "staging-app-03"]);
    const byTag = await listWith(test.db, table, fields, { keyword: "develop", count_only: true });
    expect(byTag.total_count).toBe(12);
    const none = await listWith(test.db, table, fields, { keyword: "%", count_only: true });
    expect(none.total_count).toBe(0);
  });

  it("adds the caller's scope with extraWhere", async () => {
    const response = await listWith(test.db, table, fields, seedRequest.query, sql`${table.name} like 'staging-%'`);
    expect(response.total_count).toBe(3);
  });

  it("rejects a limit over 1000, a negative start and an unknown sort key", async () => {
    await expectInvalid(() => listWith(test.db, table, fields, { page: { limit: 1001 } }), "query.page.limit");
    await expectInvalid(() => listWith(test.db, table, fields, { page: { start: -1 } }), "query.page.start");
    await expectInvalid(() => listWith(test.db, table, fields, { sort: { key: "secret" } }), "query.sort.key");
    await expectInvalid(() => listWith(test.db, table, fields, { only: ["name", "password"] }), "query.only[1]");
  });
});

describe("listWith: the select list of a shape is rendered once", () => {
  it("reuses one plan per field map, `only` and attached SQL, and not across them", () => {
    const all = selectionPlan(fields, [], undefined);
    expect(selectionPlan(fields, [], undefined)).toBe(all);
    const trimmed = selectionPlan(fields, ["name", "data.cluster"], undefined);
    expect(trimmed).not.toBe(all);
    expect(selectionPlan(fields, ["name", "data.cluster"], undefined)).toBe(trimmed);
    const first = sql`(select 1)`;
    const second = sql`(select 2)`;
    const withFirst = selectionPlan(fields, [], { "#extra": first });
    expect(selectionPlan(fields, [], { "#extra": first })).toBe(withFirst);
    expect(selectionPlan(fields, [], { "#extra": second })).not.toBe(withFirst);
  });

  it("decodes each field as Drizzle's select does (a timestamp as a Date), and the attached values as read", async () => {
    const response = await listWith(test.db, table, fields, { sort: { key: "name" }, page: { limit: 1 } }, undefined, {
      attach: { "#extra": sql`json_build_object('n', ${table.name})` },
    });
    const [row] = response.results;
    expect(row.created_at).toBeInstanceOf(Date);
    expect(row.data).toBeTypeOf("object");
    expect(row["#extra"]).toEqual({ n: row.name });
    expect(Object.keys(row)).not.toContain("#ordinal");
    expect(Object.keys(row)).not.toContain("#total");
  });
});
