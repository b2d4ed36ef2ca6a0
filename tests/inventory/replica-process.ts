// One inventory replica as its own process, so a test can kill it without a graceful shutdown
// (`node --import tsx tests/inventory/replica-process.ts`). Configured by the environment as any
// replica is; prints {"event":"ready","url":…} once serving. SIGTERM closes it gracefully.
import { inventoryModule } from "@cloudforet/inventory";
import { startService } from "@cloudforet/runtime";

const service = await startService(inventoryModule, process.env);
process.stdout.write(`${JSON.stringify({ event: "ready", url: service.url })}\n`);
process.once("SIGTERM", () => {
  void service.close().finally(() => process.exit(0));
});
