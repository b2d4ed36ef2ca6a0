import { randomBytes } from "node:crypto";

/**
 * Environment for a notification test platform: identity's secret key (required outside embedded
 * mode), fast retries and polls, plus the test's own settings.
 */
export function notificationTestEnv(overrides: Record<string, string> = {}): Record<string, string> {
  return {
    IDENTITY_SECRET_KEYS: `test:${randomBytes(32).toString("base64")}`,
    NOTIFICATION_CREDENTIALS_KEYS: `test:${randomBytes(32).toString("base64")}`,
    NOTIFICATION_RETRY_BASE_MS: "20",
    NOTIFICATION_POLL_MS: "200",
    // This file's own NATS consumers (tests/consumer-prefix.setup.ts), for services run on NATS.
    ...(process.env.NATS_CONSUMER_PREFIX ? { NATS_CONSUMER_PREFIX: process.env.NATS_CONSUMER_PREFIX, NATS_CONSUMER_SINCE: process.env.NATS_CONSUMER_SINCE ?? "" } : {}),
    ...overrides,
  };
}
