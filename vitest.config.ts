import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["packages/*/src/**/*.test.ts", "services/*/src/**/*.test.ts", "plugins/*/src/**/*.test.ts", "tests/**/*.test.ts", "apps/*/src/**/*.test.{ts,tsx}", "apps/*/server/**/*.test.ts"],
    exclude: ["**/node_modules/**", "tests/long/**"],
    pool: "forks",
    // Most test files wait on Postgres, NATS and child processes rather than compute: three at a time
    // keep a 2-core machine busy (vitest's default would be one file at a time there).
    maxWorkers: Number(process.env.VITEST_MAX_WORKERS ?? 3),
    // Every service a test starts (in-process or spawned) opens at most 3 Postgres connections and
    // closes idle ones after 5 s, so three files of seven-service platforms fit a stock max_connections of 100.
    env: { DATABASE_POOL_SIZE: process.env.DATABASE_POOL_SIZE ?? "3", DATABASE_IDLE_TIMEOUT_SECONDS: process.env.DATABASE_IDLE_TIMEOUT_SECONDS ?? "5" },
    testTimeout: 30_000,
    // On CI a failed test runs once more, so one timing blip on a shared, noisy 2-core runner does not
    // sink a run; a broken test fails both times. scripts/test.mjs names every test that needed the
    // second run ("flaky"), so a race is seen and fixed rather than hidden.
    retry: process.env.CI ? 1 : 0,
    hookTimeout: 60_000,
    globalSetup: ["./tests/global-setup.ts"],
    setupFiles: ["./tests/consumer-prefix.setup.ts"],
  },
});
