import { afterAll, beforeAll, describe, expect, it } from "vitest";
import pino from "pino";
import postgres from "postgres";
import { testDatabaseUrl, uniqueSuffix, waitFor } from "@cloudforet/testing";
import { notificationsOf, notify, openDatabase, type DatabaseHandle } from "./index";

const logger = pino({ level: process.env.LOG_LEVEL ?? "silent" });

describe("LISTEN/NOTIFY on PostgreSQL", () => {
  let handle: DatabaseHandle;
  let admin: postgres.Sql;
  const schema = `db_notify_${uniqueSuffix()}`;

  beforeAll(async () => {
    handle = await openDatabase({ url: testDatabaseUrl(), schema, logger, poolSize: 2 });
    admin = postgres(testDatabaseUrl(), { max: 1, onnotice: () => {} });
  });
  afterAll(async () => {
    await handle?.close();
    await admin?.end();
  });

  it("delivers a NOTIFY once its transaction commits, never one rolled back", async () => {
    const notifications = notificationsOf(handle.db);
    expect(notifications).toBe(handle.notifications);
    const channel = `test.${uniqueSuffix()}`;
    const payloads: string[] = [];
    let listened = 0;
    const subscription = notifications!.listen(channel, { onNotify: (p) => payloads.push(p), onListening: () => listened++ });
    await waitFor(() => subscription.listening, 5_000, "LISTEN in place");
    expect(listened).toBe(1);

    await handle.db
      .transaction(async (tx) => {
        await notify(tx, channel, "rolled back");
        throw new Error("abort");
      })
      .catch(() => {});
    await handle.db.transaction(async (tx) => {
      await notify(tx, channel, "committed");
      // Still inside the transaction: nothing is delivered before the commit.
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(payloads).toEqual([]);
    });
    await waitFor(() => payloads.length === 1, 2_000, "the committed notification");
    expect(payloads).toEqual(["committed"]);
    await subscription.close();
  });

  it("re-LISTENs after its connection is killed and says so, so listeners can catch up", async () => {
    const channel = `test.${uniqueSuffix()}`;
    const payloads: string[] = [];
    let listened = 0;
    let lost = 0;
    const subscription = handle.notifications!.listen(channel, { onNotify: (p) => payloads.push(p), onListening: () => listened++, onLost: () => lost++ });
    // (Embedded PGlite has no notifications at all: `notifications` is undefined there and callers poll.)
    await waitFor(() => subscription.listening, 5_000, "LISTEN in place");

    await admin`select pg_terminate_backend(pid) from pg_stat_activity where application_name = ${`cloudforet-${schema}-listen`}`;
    await waitFor(() => lost === 1, 5_000, "the lost connection noticed");
    await waitFor(() => listened === 2 && subscription.listening, 10_000, "LISTEN again");

    await notify(handle.db, channel, "after reconnect");
    await waitFor(() => payloads.includes("after reconnect"), 2_000, "a notification on the new connection");
    await subscription.close();
  });
});
