import { Code, ConnectError, type Client } from "@connectrpc/connect";
import { cloudServiceModule } from "@cloudforet/cloud-service";
import { decodeError } from "@cloudforet/errors";
import { acquireSharedInProcessBus, type PlatformEvent } from "@cloudforet/events";
import { CloudServiceTypeService } from "@cloudforet/proto/cloudforet/cloud_service/v1/cloud_service_type_pb";
import { createLogger } from "@cloudforet/runtime";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestPlatform, type TestPlatform } from "../support/platform";

let platform: TestPlatform;
let client: Client<typeof CloudServiceTypeService>;
const events: PlatformEvent[] = [];

beforeAll(async () => {
  platform = await startTestPlatform({ modules: [cloudServiceModule], env: { IDENTITY_SECRET_KEYS: process.env.IDENTITY_SECRET_KEYS ?? "test:BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=" } });
  client = platform.client(CloudServiceTypeService);
  const bus = acquireSharedInProcessBus({ logger: createLogger("test", "silent") });
  await bus.subscribe({ durable: "cst-test", subjects: "cloudforet.cloud_service.>", handler: (event) => void events.push(event) });
});

afterAll(async () => {
  await platform?.close();
});

const failure = (promise: Promise<unknown>) => promise.then(() => expect.fail("expected an error"), (err) => decodeError(err));

describe("CloudServiceTypeService", () => {
  it("creates a provider's type from its key and announces it on the bus", async () => {
    const created = await client.create({ key: "compute.Instance", provider: "nutanix", tags: { team: "infra" } });
    expect(created).toMatchObject({ key: "compute.Instance", group: "compute", name: "Instance", provider: "nutanix", isBuiltin: false, domainId: "domain-default", tags: { team: "infra" } });
    expect(created.cloudServiceTypeId).toMatch(/^cst-[0-9a-f-]{36}$/);
    await expect.poll(() => events.map((e) => e.subject)).toContain("cloudforet.cloud_service.cloud_service_type.created");
    const event = events.find((e) => (e.data as { cloud_service_type_id: string }).cloud_service_type_id === created.cloudServiceTypeId);
    expect(event?.domainId).toBe("domain-default");
  });

  it("creates from group and name", async () => {
    const created = await client.create({ group: "storage", name: "Bucket", provider: "nutanix" });
    expect(created.key).toBe("storage.Bucket");
  });

  it("refuses a duplicate, including a built-in's key, with ERROR_CONFLICT", async () => {
    const dup = await failure(client.create({ key: "compute.Instance", provider: "nutanix" }));
    expect(dup).toMatchObject({ code: "ERROR_CONFLICT", grpcCode: Code.AlreadyExists, metadata: { key: "compute.Instance", provider: "nutanix" } });
    const builtin = await failure(client.create({ key: "compute.Disk" }));
    expect(builtin.code).toBe("ERROR_CONFLICT");
  });

  it("rejects bad names with INVALID_ARGUMENT naming the parameter", async () => {
    expect(await failure(client.create({ key: "computeInstance" }))).toMatchObject({ code: "ERROR_INVALID_PARAMETER", metadata: { parameter: "key", value: "computeInstance" } });
    expect(await failure(client.create({ group: "compute" }))).toMatchObject({ code: "ERROR_INVALID_PARAMETER", message: "Missing required field", metadata: { parameter: "name" } });
    expect(await failure(client.create({ key: "a.b", provider: "Bad Provider" }))).toMatchObject({ metadata: { parameter: "provider" } });
    expect(await failure(client.create({ key: "compute.Instance", group: "storage" }))).toMatchObject({ metadata: { parameter: "key" } });
  });

  it("gets by id and by key, the provider's own type winning over the built-in", async () => {
    const own = await client.get({ key: "compute.Instance", provider: "nutanix" });
    expect(own.provider).toBe("nutanix");
    const builtin = await client.get({ key: "compute.Instance", provider: "aws" });
    expect(builtin).toMatchObject({ provider: "", isBuiltin: true, domainId: "" });
    expect((await client.get({ cloudServiceTypeId: own.cloudServiceTypeId })).key).toBe("compute.Instance");
    expect(await failure(client.get({ cloudServiceTypeId: "cst-missing" }))).toMatchObject({ code: "ERROR_NOT_FOUND", metadata: { cloud_service_type_id: "cst-missing" } });
    expect(await failure(client.get({}))).toMatchObject({ code: "ERROR_INVALID_PARAMETER", metadata: { parameter: "cloud_service_type_id" } });
  });

  it("lists through the query language with total_count, paging and only", async () => {
    const all = await client.list({});
    expect(all.totalCount).toBe(5); // 3 built-ins + 2 created
    expect(all.results.map((t) => t.key)).toEqual(["compute.Disk", "compute.Instance", "compute.Instance", "compute.Network", "storage.Bucket"]);
    const nutanix = await client.list({ query: { filter: [{ k: "provider", v: { kind: { case: "stringValue", value: "nutanix" } }, o: "eq" }], page: { start: 1, limit: 1 }, only: ["key"] } });
    expect(nutanix.totalCount).toBe(2);
    expect(nutanix.results).toHaveLength(1);
    expect(nutanix.results[0].key).toBe("storage.Bucket");
    expect(nutanix.results[0].provider).toBe(""); // trimmed by `only`
    const bad = await failure(client.list({ query: { filter: [{ k: "provider'; drop table x;--", o: "eq" }] } }));
    expect(bad).toMatchObject({ code: "ERROR_INVALID_PARAMETER", metadata: { parameter: "query.filter[0]" } });
  });

  it("deletes the domain's own types only", async () => {
    const builtin = await client.get({ key: "compute.Network" });
    expect(await failure(client.delete({ cloudServiceTypeId: builtin.cloudServiceTypeId }))).toMatchObject({ code: "ERROR_PERMISSION_DENIED" });
    const bucket = await client.get({ key: "storage.Bucket", provider: "nutanix" });
    await client.delete({ cloudServiceTypeId: bucket.cloudServiceTypeId });
    const gone = await client.get({ cloudServiceTypeId: bucket.cloudServiceTypeId }).catch((e) => ConnectError.from(e));
    expect(gone).toBeInstanceOf(ConnectError);
    expect((gone as ConnectError).code).toBe(Code.NotFound);
    expect(await failure(client.delete({ cloudServiceTypeId: bucket.cloudServiceTypeId }))).toMatchObject({ code: "ERROR_NOT_FOUND" });
  });
});
