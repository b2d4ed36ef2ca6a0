/** Where the tests' real Postgres and NATS are (SPEC §10), overridable by env. */
export const testDatabaseUrl = () => process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
export const testNatsUrl = () => process.env.NATS_URL ?? "nats://127.0.0.1:4222";

/** A short random suffix so parallel test files never share a schema, stream or subject. */
export function uniqueSuffix(): string {
  return `${process.pid.toString(36)}${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
}

/**
 * CLOUDFORET_OUTBOUND_ALLOW for services under test: their webhooks, SMTP servers, plugins and
 * http_request targets are local servers, which the outbound policy refuses unless allowlisted.
 */
export const TEST_OUTBOUND_ALLOW = "127.0.0.1/32,::1";
