import postgres from "postgres";
import { testDatabaseUrl, uniqueSuffix } from "./environment";
import { recordScanBeforeDrop } from "./leak-scan";
import { captureDir } from "./secret-canary";

export interface TestDatabase {
  name: string;
  /** A URL for the new database, for DATABASE_URL. */
  url: string;
  /** Drops the database (terminating leftover connections); under the secrets sweep, scans it first. */
  drop(): Promise<void>;
}

/**
 * A fresh database on the real Postgres for a test file that runs whole services, whose schema
 * names are fixed ("cloud_service"), so parallel files cannot share one database.
 */
export async function createTestDatabase(prefix = "t"): Promise<TestDatabase> {
  const name = `${prefix.replace(/[^a-z0-9_]/gi, "_").toLowerCase()}_${uniqueSuffix()}`;
  const admin = postgres(testDatabaseUrl(), { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`CREATE DATABASE "${name}"`);
  } finally {
    await admin.end();
  }
  const url = new URL(testDatabaseUrl());
  url.pathname = `/${name}`;
  return {
    name,
    url: url.toString(),
    async drop() {
      if (captureDir()) {
        const scanner = postgres(url.toString(), { max: 1, onnotice: () => {} });
        await recordScanBeforeDrop(scanner).finally(() => scanner.end({ timeout: 1 }).catch(() => {}));
      }
      const cleanup = postgres(testDatabaseUrl(), { max: 1, onnotice: () => {} });
      try {
        await cleanup.unsafe(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await cleanup.end();
      }
    },
  };
}
