import { fileURLToPath } from "node:url";
import pino from "pino";
import { migrate, openDatabase, type DatabaseHandle } from "@cloudforet/db";
import { createTestDatabase, type TestDatabase } from "@cloudforet/testing";

/** A fresh database on the real Postgres with the notification schema migrated (for domain tests). */
export async function notificationDatabase(): Promise<{ handle: DatabaseHandle; url: string; close(): Promise<void> }> {
  const database: TestDatabase = await createTestDatabase("notification_unit");
  const logger = pino({ level: "silent" });
  const handle = await openDatabase({ url: database.url, schema: "notification", logger, poolSize: 4 });
  await migrate(handle, { migrationsFolder: fileURLToPath(new URL("../../drizzle", import.meta.url)), schema: "notification", logger });
  return {
    handle,
    url: database.url,
    async close() {
      await handle.close();
      await database.drop();
    },
  };
}
