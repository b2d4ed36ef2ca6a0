import postgres from "postgres";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { testDatabaseUrl, testNatsUrl } from "./environment";

/** The error a test run gets when a backing service is down: which one, where, and how to point elsewhere. */
export class TestBackendUnavailableError extends Error {
  override name = "TestBackendUnavailableError";
  constructor(backend: "PostgreSQL" | "NATS", address: string, envVar: string, cause: unknown) {
    const reason = cause instanceof Error ? cause.message || cause.name : String(cause);
    super(
      `${backend} is not reachable at ${address} (${reason}). ` +
        `Tests need a running ${backend}; start it or set ${envVar}.`,
      { cause },
    );
  }
}

/** host:port/db of a URL without credentials. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}${parsed.pathname}`;
  } catch {
    return url;
  }
}

/** Throws TestBackendUnavailableError unless the test Postgres answers `select 1`. */
export async function requirePostgres(url = testDatabaseUrl()): Promise<void> {
  const sql = postgres(url, { max: 1, connect_timeout: 5, onnotice: () => {} });
  try {
    await sql`select 1`;
  } catch (err) {
    throw new TestBackendUnavailableError("PostgreSQL", redactUrl(url), "DATABASE_URL", err);
  } finally {
    await sql.end({ timeout: 1 }).catch(() => {});
  }
}

/** A NATS connection to the test server, or TestBackendUnavailableError saying it is down. */
export async function connectTestNats(url = testNatsUrl()): Promise<NatsConnection> {
  try {
    return await connect({ servers: url, timeout: 5_000, name: "cloudforet-test" });
  } catch (err) {
    throw new TestBackendUnavailableError("NATS", redactUrl(url), "NATS_URL", err);
  }
}

/** Throws TestBackendUnavailableError unless the test NATS server accepts a connection. */
export async function requireNats(url = testNatsUrl()): Promise<void> {
  const nc = await connectTestNats(url);
  await nc.close();
}
