import { fileURLToPath } from "node:url";
import type { ServiceModule } from "@cloudforet/runtime";
import { CollectorService } from "@cloudforet/proto/cloudforet/inventory/v1/collector_pb";
import { JobService } from "@cloudforet/proto/cloudforet/inventory/v1/job_pb";
import { JobTaskService } from "@cloudforet/proto/cloudforet/inventory/v1/job_task_pb";
import { PluginClients } from "./collection/plugin-clients";
import { PullCollection } from "./collection/pull-collection";
import { cloudServiceSink } from "./collection/resource-sink";
import { collectorHandlers } from "./collectors/handlers";
import { CollectorRepository } from "./collectors/repository";
import { outbox } from "./db/schema";
import { identityDirectory } from "./identity/identity-directory";
import { readInventoryConfig } from "./inventory-config";
import { jobTaskHandlers } from "./job-tasks/handlers";
import { jobHandlers } from "./jobs/handlers";
import { JobLauncher } from "./jobs/job-launcher";
import { JobStore } from "./jobs/job-store";
import { JobWatchHub } from "./jobs/job-watch";
import { followSweepResults } from "./jobs/sweep-results";
import { startTimeoutSweeper } from "./jobs/timeout-sweeper";

/**
 * The inventory service (SPEC §6): collectors, collection jobs and their tasks, pull collection
 * from collector plugins into cloud-service, job events on the bus and the timeout sweeper.
 */
export const inventoryModule: ServiceModule = {
  name: "inventory",
  domain: "cloudforet.inventory.v1",
  defaultPort: 50052,
  schema: "inventory",
  migrationsFolder: fileURLToPath(new URL("../drizzle", import.meta.url)),
  outbox,
  async create({ db, bus, logger, kickOutbox, env }) {
    const config = readInventoryConfig(env);
    const collectors = new CollectorRepository(db, kickOutbox);
    const store = new JobStore(db, kickOutbox);
    const identity = identityDirectory(config.identityUrl, logger);
    const plugins = new PluginClients(logger, 60_000);
    const sink = cloudServiceSink(config.cloudServiceUrl, logger);
    const pull = new PullCollection({ store, identity, plugins, sink, logger, concurrency: config.pullConcurrency });
    const launcher = new JobLauncher(collectors, store, identity, pull, config.defaultJobTimeoutS);
    const hub = new JobWatchHub(bus, logger);
    await hub.start();
    // A job canceled or timed out on another replica stops this replica's streams too.
    const unfollow = hub.onEveryChange((change) => {
      if (change.data.task === undefined && (change.data.status === "CANCELED" || change.data.status === "TIMEOUT")) pull.stop(change.data.job_id);
    });
    const sweepResults = await followSweepResults({ db, bus, store, logger, kickOutbox });
    const sweeper = startTimeoutSweeper({ store, pull, logger, intervalMs: config.timeoutSweepIntervalMs });
    return {
      services: [CollectorService, JobService, JobTaskService],
      routes(router) {
        router.service(CollectorService, collectorHandlers({ collectors, identity, plugins, launcher }));
        router.service(JobService, jobHandlers({ store, launcher, pull, hub }));
        router.service(JobTaskService, jobTaskHandlers(store, identity));
      },
      async close() {
        await sweeper.stop();
        unfollow();
        await pull.close();
        await sweepResults.close();
        await hub.close();
      },
    };
  },
};
