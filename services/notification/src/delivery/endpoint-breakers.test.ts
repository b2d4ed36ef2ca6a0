import { sql } from "drizzle-orm";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryRows, type DatabaseHandle } from "@cloudforet/db";
import { notificationDatabase } from "../db/test-database";
import { EndpointBreakers } from "./endpoint-breakers";

let database: { handle: DatabaseHandle; close(): Promise<void> };
let breakers: EndpointBreakers;
const transitions: string[] = [];

beforeAll(async () => {
  database = await notificationDatabase();
  const logger = pino({ level: "info" }, { write: (line: string) => void transitions.push(line) });
  breakers = new EndpointBreakers(database.handle.db, { failureThreshold: 2, resetTimeoutMs: 60_000, logger });
});

afterAll(async () => {
  await database?.close();
});

/** Holds the endpoint's breaker row locked, as a claim admitting deliveries to it does, until `release`. */
async function lockedByAClaim(key: string): Promise<{ release(): Promise<void> }> {
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  let locked!: () => void;
  const isLocked = new Promise<void>((resolve) => (locked = resolve));
  const claim = database.handle.db.transaction(async (tx) => {
    await tx.execute(sql`select 1 from notification.endpoint_breakers where endpoint_key = ${key} for update`);
    locked();
    await released;
  });
  await isLocked;
  return {
    async release() {
      release();
      await claim;
    },
  };
}

const within = <T>(promise: Promise<T>, ms: number) => Promise.race([promise.then(() => "done" as const), new Promise<"waiting">((resolve) => setTimeout(() => resolve("waiting"), ms))]);

const stateOf = async (key: string) =>
  (await queryRows<{ state: string; consecutive_failures: number }>(database.handle.db, sql`select state, consecutive_failures from notification.endpoint_breakers where endpoint_key = ${key}`))[0];

describe("EndpointBreakers.record", () => {
  it("counts a success on a healthy endpoint without waiting for the row a claim holds", async () => {
    const endpoint = { key: "http:healthy", label: "https://hooks.example" };
    await database.handle.db.execute(sql`insert into notification.endpoint_breakers (endpoint_key, label) values (${endpoint.key}, ${endpoint.label})`);
    const claim = await lockedByAClaim(endpoint.key);
    try {
      // Every delivery to a busy endpoint succeeds while claims for it hold its row: none may queue there.
      expect(await within(breakers.record(endpoint, "success"), 2_000)).toBe("done");
    } finally {
      await claim.release();
    }
    expect(await stateOf(endpoint.key)).toEqual({ state: "closed", consecutive_failures: 0 });
  });

  it("still changes a breaker under its lock: failures open it, and a success after them closes it again", async () => {
    const endpoint = { key: "http:flaky", label: "https://flaky.example" };
    await database.handle.db.execute(sql`insert into notification.endpoint_breakers (endpoint_key, label) values (${endpoint.key}, ${endpoint.label})`);
    await breakers.record(endpoint, "failure");
    const claim = await lockedByAClaim(endpoint.key);
    // A success with a failure to clear is a change: it waits for the claim, then applies.
    const success = breakers.record(endpoint, "success");
    expect(await within(success, 300)).toBe("waiting");
    await claim.release();
    await success;
    expect(await stateOf(endpoint.key)).toEqual({ state: "closed", consecutive_failures: 0 });
    await breakers.record(endpoint, "failure");
    await breakers.record(endpoint, "failure");
    expect(await stateOf(endpoint.key)).toEqual({ state: "open", consecutive_failures: 2 });
    await database.handle.db.execute(sql`update notification.endpoint_breakers set state = 'half-open' where endpoint_key = ${endpoint.key}`);
    transitions.length = 0;
    await breakers.record(endpoint, "success");
    expect(await stateOf(endpoint.key)).toEqual({ state: "closed", consecutive_failures: 0 });
    expect(transitions.join("")).toContain("half-open");
  });
});
