import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
import { migrate, openDatabase, type DatabaseHandle } from "@cloudforet/db";
import { OutboundPolicy } from "@cloudforet/outbound";
import { createLogger } from "@cloudforet/runtime";
import { createTestDatabase, startStatementCounter, type StatementCounter, type TestDatabase } from "@cloudforet/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { InstanceRow } from "../db/schema";
import { CredentialSealer } from "../recurrent/credential-sealer";
import { Webhooks } from "./webhooks";

const logger = createLogger("orchestration-test", "silent");
let database: TestDatabase;
let counter: StatementCounter;
let handle: DatabaseHandle;
let webhooks: Webhooks;

beforeAll(async () => {
  database = await createTestDatabase("orch_webhook_cache");
  counter = await startStatementCounter(database.url);
  handle = await openDatabase({ url: counter.url, schema: "orchestration", logger });
  await migrate(handle, { migrationsFolder: fileURLToPath(new URL("../../drizzle", import.meta.url)), schema: "orchestration", logger });
  webhooks = new Webhooks(handle.db, { sealer: new CredentialSealer([{ kid: "t", key: randomBytes(32) }]), outbound: new OutboundPolicy({ allow: ["127.0.0.1/32"] }), logger });
});

afterAll(async () => {
  await handle?.close();
  await counter?.close();
  await database?.drop();
});

describe("Webhooks.wakeFor", () => {
  it("reads a tenant's subscriptions once per cache period, however many state changes come", async () => {
    await webhooks.create({ domainId: "domain-w", tenantId: "acme" }, { url: "http://127.0.0.1:9/hook", eventTypes: ["instance.completed"] });
    let wakes = 0;
    webhooks.queued = () => void wakes++;
    counter.reset();
    const row = { id: "i-1", domainId: "domain-w", tenantId: "acme" } as InstanceRow;
    for (let i = 0; i < 50; i++) webhooks.wakeFor(row, { from: "running", to: "completed", next: null });
    await expect.poll(() => wakes, { timeout: 2_000 }).toBe(50);
    const reads = counter.statements().filter((s) => s.includes("webhook_subscriptions"));
    expect(reads).toHaveLength(1);
  });
});
