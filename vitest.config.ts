import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["packages/*/src/**/*.test.ts", "services/*/src/**/*.test.ts", "plugins/*/src/**/*.test.ts", "tests/**/*.test.ts"],
    exclude: ["**/node_modules/**", "tests/long/**"],
    pool: "forks",
    // Most test files wait on Postgres, NATS and child processes rather than compute: three at a time
    // keep a 2-core machine busy (vitest's default would be one file at a time there).
    maxWorkers: Number(process.env.VITEST_MAX_WORKERS ?? 3),
    testTimeout: 30_000,
    hookTimeout: 60_000,
    globalSetup: ["./tests/global-setup.ts"],
  },
});
