import { createOrchestrationModule } from "@cloudforet/orchestration";
import { ConfigError, startService } from "@cloudforet/runtime";
import { createTestDatabase } from "@cloudforet/testing";
import { expect, it } from "vitest";

// Replicas that each generated their own key file could never open one another's sealed requests.
it("orchestration refuses to start with DATABASE_URL and no ORCHESTRATION_CREDENTIALS_KEYS", async () => {
  const database = await createTestDatabase("orch_keys");
  try {
    const env = { DATABASE_URL: database.url, ORCHESTRATION_ADDR: "127.0.0.1:0", ORCHESTRATION_HTTP_ADDR: "127.0.0.1:0", LOG_LEVEL: "silent" };
    const err = await startService(createOrchestrationModule({ env }), env).then(
      async (running) => {
        await running.close();
        return undefined;
      },
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toContain("ORCHESTRATION_CREDENTIALS_KEYS is required when DATABASE_URL is set");
  } finally {
    await database.drop();
  }
});
