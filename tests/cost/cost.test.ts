import { fromJson, toJson } from "@bufbuild/protobuf";
import { Code, type Client } from "@connectrpc/connect";
import { costModule } from "@cloudforet/cost";
import { decodeError } from "@cloudforet/errors";
import {
  CostService,
  CostServiceBatchCreateRequestSchema,
  CostServiceBatchCreateResponseSchema,
  CostServiceCreateRequestSchema,
  CostServiceCreateResponseSchema,
} from "@cloudforet/proto/cloudforet/cost/v1/cost_pb";
import { DataSourceService } from "@cloudforet/proto/cloudforet/cost/v1/data_source_pb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestPlatform, type TestPlatform } from "../support/platform";

let platform: TestPlatform;
let costs: Client<typeof CostService>;
let dataSources: Client<typeof DataSourceService>;

beforeAll(async () => {
  platform = await startTestPlatform({ modules: [costModule] });
  costs = platform.client(CostService);
  dataSources = platform.client(DataSourceService);
  await dataSources.create({ dataSourceId: "ds-cost-nutanix-001", name: "Nutanix costs", provider: "nutanix" });
});

afterAll(async () => {
  await platform?.close();
});

const failure = (promise: Promise<unknown>) => promise.then(() => expect.fail("expected an error"), (err) => decodeError(err));
/** The response as the wire's JSON prints it (snake_case, zero values included). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const wire = (schema: any, message: unknown) => toJson(schema, message as never, { useProtoFieldName: true, alwaysEmitImplicit: true }) as Record<string, unknown>;
const uuid = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}";

describe("seed 000 §4: Push Cost Data", () => {
  it("answers the single record request with exactly the seed's fields", async () => {
    const request = {
      data_source_id: "ds-cost-nutanix-001",
      date: "2024-01-15",
      cost: 12.5,
      currency: "USD",
      resource_id: "vm-abc123def456",
      resource_type: "compute.Instance",
      region: "on-premises",
      tags: { cluster: "cluster-prod-01", department: "engineering", environment: "production" },
    };
    const response = wire(CostServiceCreateResponseSchema, await costs.create(fromJson(CostServiceCreateRequestSchema, request)));
    expect(Object.keys(response).sort()).toEqual(["cost", "cost_id", "created_at", "date", "resource_id"]);
    expect(response).toMatchObject({ date: "2024-01-15", cost: 12.5, resource_id: "vm-abc123def456" });
    expect(response.cost_id).toMatch(new RegExp(`^cost-${uuid}$`));
    expect(Date.parse(response.created_at as string)).toBeGreaterThan(Date.now() - 60_000);

    const stored = await costs.get({ costId: response.cost_id as string });
    expect(stored).toMatchObject({ dataSourceId: "ds-cost-nutanix-001", currency: "USD", resourceType: "compute.Instance", region: "on-premises", cost: 12.5, jobId: "", domainId: "domain-default" });
    expect(stored.tags).toEqual(request.tags);
  });

  it("answers the batch request with created_count 3, failed_count 0, total_cost 26.50 and a job id", async () => {
    const request = {
      costs: [
        { date: "2024-01-15", cost: 12.5, resource_id: "vm-abc123def456", tags: { cluster: "cluster-prod-01" } },
        { date: "2024-01-15", cost: 8.75, resource_id: "vm-def789ghi012", tags: { cluster: "cluster-prod-01" } },
        { date: "2024-01-15", cost: 5.25, resource_id: "vm-jkl345mno678", tags: { cluster: "cluster-dev-01" } },
      ],
    };
    const response = wire(CostServiceBatchCreateResponseSchema, await costs.batchCreate(fromJson(CostServiceBatchCreateRequestSchema, request)));
    expect(response).toEqual({ created_count: 3, failed_count: 0, total_cost: 26.5, job_id: expect.stringMatching(new RegExp(`^job-cost-${uuid}$`)), failures: [] });
    const stored = await costs.list({ query: { filter: [{ k: "job_id", v: { kind: { case: "stringValue", value: response.job_id as string } } }] } });
    expect(stored.totalCount).toBe(3);
    expect(stored.results.map((c) => [c.resourceId, c.cost, c.currency, c.dataSourceId]).sort()).toEqual([
      ["vm-abc123def456", 12.5, "USD", ""],
      ["vm-def789ghi012", 8.75, "USD", ""],
      ["vm-jkl345mno678", 5.25, "USD", ""],
    ]);
  });
});

describe("seed 000 §4: error cases", () => {
  const valid = { dataSourceId: "ds-cost-nutanix-001", date: "2024-01-15", cost: 1, resourceId: "vm-1" };

  it("Case 1: a negative cost is ERROR_INVALID_PARAMETER naming cost and its value", async () => {
    const err = await failure(costs.create({ ...valid, cost: -5.0 }));
    expect(err).toMatchObject({ code: "ERROR_INVALID_PARAMETER", grpcCode: Code.InvalidArgument, message: "Cost must be a positive number", metadata: { parameter: "cost", value: "-5" } });
    expect(Number(err.metadata.value)).toBe(-5.0);
    for (const cost of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
      expect(await failure(costs.create({ ...valid, cost }))).toMatchObject({ code: "ERROR_INVALID_PARAMETER", message: "Cost must be a positive number", metadata: { parameter: "cost", value: String(cost) } });
    }
  });

  it("Case 2: a date not in YYYY-MM-DD (or not a real day) is ERROR_INVALID_PARAMETER naming date and its value", async () => {
    expect(await failure(costs.create({ ...valid, date: "15-01-2024" }))).toMatchObject({
      code: "ERROR_INVALID_PARAMETER",
      message: "Date must be in YYYY-MM-DD format",
      metadata: { parameter: "date", value: "15-01-2024" },
    });
    for (const date of ["2024-02-30", "2023-02-29", "2024-13-01", "2024-1-15", "2024-01-15T00:00:00Z", " 2024-01-15"]) {
      expect(await failure(costs.create({ ...valid, date }))).toMatchObject({ message: "Date must be in YYYY-MM-DD format", metadata: { parameter: "date", value: date } });
    }
    expect((await costs.create({ ...valid, date: "2024-02-29" })).date).toBe("2024-02-29");
  });

  it("Case 3: an unknown data source is ERROR_NOT_FOUND naming data_source_id", async () => {
    expect(await failure(costs.create({ ...valid, dataSourceId: "ds-invalid" }))).toEqual(
      expect.objectContaining({ code: "ERROR_NOT_FOUND", grpcCode: Code.NotFound, message: "Data source not found", metadata: expect.objectContaining({ data_source_id: "ds-invalid" }) }),
    );
    expect(await failure(costs.batchCreate({ dataSourceId: "ds-invalid", costs: [{ date: "2024-01-15", cost: 1, resourceId: "vm-1" }] }))).toMatchObject({
      code: "ERROR_NOT_FOUND",
      message: "Data source not found",
      metadata: { data_source_id: "ds-invalid" },
    });
  });

  it("refuses a missing resource_id, a bad currency and bad tags", async () => {
    expect(await failure(costs.create({ ...valid, resourceId: "" }))).toMatchObject({ code: "ERROR_INVALID_PARAMETER", metadata: { parameter: "resource_id" } });
    expect(await failure(costs.create({ ...valid, currency: "dollars" }))).toMatchObject({ metadata: { parameter: "currency", value: "dollars" } });
    expect(await failure(costs.create({ ...valid, tags: { "bad key": "x" } }))).toMatchObject({ metadata: { parameter: "tags" } });
    expect(await failure(costs.create({ ...valid, cost: 1e15 }))).toMatchObject({ metadata: { parameter: "cost" } });
  });
});

describe("hostile text", () => {
  it("refuses NUL and lone surrogates arriving as JSON with 400, never 500", async () => {
    for (const body of [
      { date: "2024-01-15", cost: 1, resource_id: "vm\\u0000" },
      { date: "2024-01-15", cost: 1, resource_id: "vm", region: "\\ud800" },
      { date: "2024-01-15", cost: 1, resource_id: "vm", tags: { a: "\\udc00" } },
    ]) {
      const response = await fetch(`${platform.url("cost")}/cloudforet.cost.v1.CostService/Create`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${platform.admin.token}` },
        body: JSON.stringify(body).replace(/\\\\u/g, "\\u"),
      });
      expect(response.status).toBe(400);
    }
  });
});

describe("CostService.BatchCreate", () => {
  it("stores the good rows and counts each bad one with its index, field, value and reason", async () => {
    const response = await costs.batchCreate({
      dataSourceId: "ds-cost-nutanix-001",
      costs: [
        { date: "2024-01-16", cost: 1.1, resourceId: "vm-a" },
        { date: "2024-01-16", cost: -5.0, resourceId: "vm-b" },
        { date: "15-01-2024", cost: 2.2, resourceId: "vm-c" },
        { date: "2024-01-16", cost: 3.3, resourceId: "vm-d", currency: "eur" },
        { date: "2024-01-16", cost: 1, resourceId: "" },
      ],
    });
    expect(wire(CostServiceBatchCreateResponseSchema, response)).toEqual({
      created_count: 2,
      failed_count: 3,
      total_cost: 4.4,
      job_id: expect.stringMatching(/^job-cost-/),
      failures: [
        { index: 1, parameter: "cost", value: -5, message: "Cost must be a positive number" },
        { index: 2, parameter: "date", value: "15-01-2024", message: "Date must be in YYYY-MM-DD format" },
        { index: 4, parameter: "resource_id", value: "", message: "Missing required field" },
      ],
    });
    const stored = await costs.list({ query: { filter: [{ k: "job_id", v: { kind: { case: "stringValue", value: response.jobId } } }], sort: { key: "resource_id" } } });
    expect(stored.results.map((c) => [c.resourceId, c.cost, c.currency, c.dataSourceId])).toEqual([
      ["vm-a", 1.1, "USD", "ds-cost-nutanix-001"],
      ["vm-d", 3.3, "EUR", "ds-cost-nutanix-001"],
    ]);
  });

  it("echoes a hostile bad value printable and short: NULs and lone surrogates become U+FFFD, 256 characters at most", async () => {
    const response = await costs.batchCreate({
      costs: [
        { date: "\u0000".repeat(5_000), cost: 1, resourceId: "vm-nul" },
        { date: "2024-01-0\uD800", cost: 1, resourceId: "vm-surrogate" },
      ],
    });
    expect(response.failures.map((f) => [f.index, f.parameter])).toEqual([
      [0, "date"],
      [1, "date"],
    ]);
    const [nul, surrogate] = response.failures.map((f) => f.value?.kind.value);
    expect(nul).toBe(`${"\uFFFD".repeat(256)}…`);
    expect(surrogate).toBe("2024-01-0\uFFFD");
  });

  it("sums exactly in decimals: 0.1 + 0.2 is 0.3 and a thousand cents are 10", async () => {
    const tenths = await costs.batchCreate({ costs: [0.1, 0.2].map((cost) => ({ date: "2024-02-01", cost, resourceId: "vm-sum" })) });
    expect(tenths.totalCost).toBe(0.3);
    const cents = await costs.batchCreate({ costs: Array.from({ length: 1000 }, () => ({ date: "2024-02-01", cost: 0.01, resourceId: "vm-cents" })) });
    expect(cents).toMatchObject({ createdCount: 1000, totalCost: 10 });
  });

  it("refuses an empty batch and one over 10,000 rows", async () => {
    expect(await failure(costs.batchCreate({ costs: [] }))).toMatchObject({ code: "ERROR_INVALID_PARAMETER", metadata: { parameter: "costs" } });
    const tooMany = Array.from({ length: 10_001 }, () => ({ date: "2024-01-01", cost: 1, resourceId: "v" }));
    expect(await failure(costs.batchCreate({ costs: tooMany }))).toMatchObject({ code: "ERROR_PAYLOAD_TOO_LARGE", grpcCode: Code.ResourceExhausted });
  });

  it("stores a batch once per idempotency key, also when retries race", async () => {
    const batch = { idempotencyKey: "nightly-2024-03-01", costs: [{ date: "2024-03-01", cost: 7.77, resourceId: "vm-idem" }, { date: "2024-03-01", cost: -1, resourceId: "vm-idem" }] };
    const first = await costs.batchCreate(batch);
    const retry = await costs.batchCreate(batch);
    expect(retry).toEqual(first);
    expect(first).toMatchObject({ createdCount: 1, failedCount: 1, totalCost: 7.77 });

    const racing = { idempotencyKey: "racing-key", costs: Array.from({ length: 500 }, () => ({ date: "2024-03-02", cost: 0.5, resourceId: "vm-race" })) };
    const answers = await Promise.all(Array.from({ length: 6 }, () => costs.batchCreate(racing)));
    expect(new Set(answers.map((a) => a.jobId)).size).toBe(1);
    expect(answers.every((a) => a.createdCount === 500 && a.totalCost === 250)).toBe(true);
    const stored = await costs.list({ query: { filter: [{ k: "resource_id", v: { kind: { case: "stringValue", value: "vm-race" } } }], countOnly: true } });
    expect(stored.totalCount).toBe(500);
    const idem = await costs.list({ query: { filter: [{ k: "resource_id", v: { kind: { case: "stringValue", value: "vm-idem" } } }], countOnly: true } });
    expect(idem.totalCount).toBe(1);
  });
});

describe("CostService.List and Get", () => {
  it("filters by tags and columns, pages and trims with only", async () => {
    const prod = await costs.list({
      query: {
        filter: [
          { k: "tags.cluster", v: { kind: { case: "stringValue", value: "cluster-prod-01" } } },
          { k: "date", v: { kind: { case: "stringValue", value: "2024-01-15" } } },
        ],
        sort: { key: "cost", desc: true },
        only: ["resource_id", "cost"],
      },
    });
    expect(prod.results.map((c) => [c.resourceId, c.cost, c.date])).toEqual([
      ["vm-abc123def456", 12.5, ""],
      ["vm-abc123def456", 12.5, ""],
      ["vm-def789ghi012", 8.75, ""],
    ]);
    expect(prod.totalCount).toBe(3);
    const cheap = await costs.list({ query: { filter: [{ k: "cost", v: { kind: { case: "numberValue", value: 1 } }, o: "lte" }], page: { start: 0, limit: 2 } } });
    expect(cheap.results).toHaveLength(2);
    expect(cheap.totalCount).toBeGreaterThan(1000);
    expect(await failure(costs.list({ query: { filter: [{ k: "price", o: "eq" }] } }))).toMatchObject({ code: "ERROR_INVALID_PARAMETER", metadata: { parameter: "query.filter[0]" } });
  });

  it("Get answers NOT_FOUND for an unknown id and INVALID_ARGUMENT for none", async () => {
    expect(await failure(costs.get({ costId: "cost-missing" }))).toMatchObject({ code: "ERROR_NOT_FOUND", metadata: { cost_id: "cost-missing" } });
    expect(await failure(costs.get({}))).toMatchObject({ code: "ERROR_INVALID_PARAMETER", metadata: { parameter: "cost_id" } });
  });
});
