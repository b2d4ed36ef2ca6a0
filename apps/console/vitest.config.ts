import react from "@vitejs/plugin-react";
import { defineConfig } from "vitest/config";

// The console's component tests (jsdom). The root vitest run picks the same files up through
// their `// @vitest-environment jsdom` docblock.
export default defineConfig({
  plugins: [react()],
  test: { include: ["src/**/*.test.{ts,tsx}", "server/**/*.test.ts"], environment: "jsdom", pool: "forks", maxWorkers: 2, testTimeout: 30_000 },
});
