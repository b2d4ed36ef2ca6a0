// What the schedule tests share: inventory replicas on one database and one NATS, clients, polling.
import type { DescService } from "@bufbuild/protobuf";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { createClient, type Client } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { CollectorService, type ScheduleFire } from "@cloudforet/proto/cloudforet/inventory/v1/collector_pb";
import { TEST_OUTBOUND_ALLOW, testNatsUrl } from "@cloudforet/testing";
import { bearer, type TestPlatform } from "../support/platform";

export const CREDENTIALS_KEYS = `test:${Buffer.alloc(32, 11).toString("base64")}`;
export const text = (value: string) => ({ kind: { case: "stringValue" as const, value } });

/** What every inventory replica of a schedule test is configured with (one database, one NATS, one key). */
export function scheduleReplicaEnv(platform: TestPlatform, replicaId: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    DATABASE_URL: platform.databaseUrl,
    NATS_URL: testNatsUrl(),
    INVENTORY_ADDR: "127.0.0.1:0",
    IDENTITY_URL: platform.url("identity"),
    CLOUD_SERVICE_URL: platform.url("cloud-service"),
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? "silent",
    CLOUDFORET_OUTBOUND_ALLOW: TEST_OUTBOUND_ALLOW,
    INVENTORY_CREDENTIALS_KEYS: CREDENTIALS_KEYS,
    INVENTORY_REPLICA_ID: replicaId,
    INVENTORY_TIMEOUT_SWEEP_INTERVAL_MS: "500",
    ...extra,
  };
}

export const clientAt = <S extends DescService>(service: S, url: string, token: string): Client<S> =>
  createClient(service, createConnectTransport({ baseUrl: url, httpVersion: "2", interceptors: [bearer(token)] }));

export async function waitUntil<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(value, (_k, v) => (typeof v === "bigint" ? String(v) : v))}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** The collector's schedule fires, oldest first. */
export async function firesOf(url: string, token: string, collectorId: string): Promise<ScheduleFire[]> {
  const { results } = await clientAt(CollectorService, url, token).listScheduleFires({
    query: { filter: [{ k: "collector_id", v: text(collectorId) }], sort: { key: "scheduled_at" }, page: { limit: 1000 } },
  });
  return results;
}

export const ms = (fire: ScheduleFire, field: "scheduledAt" | "createdAt") => timestampDate(fire[field]!).getTime();
