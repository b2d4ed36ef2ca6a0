import { fileURLToPath } from "node:url";
import { notificationsOf } from "@cloudforet/db";
import { OutboundPolicy } from "@cloudforet/outbound";
import type { ServiceModule } from "@cloudforet/runtime";
import { CollectorService } from "@cloudforet/proto/cloudforet/inventory/v1/collector_pb";
import { JobService } from "@cloudforet/proto/cloudforet/inventory/v1/job_pb";
import { JobTaskService } from "@cloudforet/proto/cloudforet/inventory/v1/job_task_pb";
import { CollectionCredentials, credentialKeyFile } from "./collection/collection-credentials";
import { PluginClients } from "./collection/plugin-clients";
import { PullCollection } from "./collection/pull-collection";
import { PullLeases } from "./collection/pull-leases";
import { cloudServiceSink } from "./collection/resource-sink";
import { CollectorRuleService } from "@cloudforet/proto/cloudforet/inventory/v1/collector_rule_pb";
import { EnrollmentService, PluginAliasService, PluginService } from "@cloudforet/proto/cloudforet/inventory/v1/plugin_pb";
import { JsonSealer } from "@cloudforet/runtime";
import type { JsonObject } from "@bufbuild/protobuf";
import { startEnrollmentVerifier } from "./enrollments/enrollment-verifier";
import { enrollmentHandlers } from "./enrollments/handlers";
import { EnrollmentRepository } from "./enrollments/repository";
import { pluginAliasHandlers, pluginHandlers } from "./plugins/handlers";
import { startPluginHealthChecker } from "./plugins/health-checker";
import { PluginRouter } from "./plugins/plugin-router";
import { PluginRepository } from "./plugins/repository";
import { RuleDryRun } from "./collector-rules/dry-run";
import { collectorRuleHandlers } from "./collector-rules/handlers";
import { CollectorRuleRepository } from "./collector-rules/repository";
import { withCollectorRules } from "./collector-rules/rule-sink";
import { collectorHandlers } from "./collectors/handlers";
import { CollectorRepository } from "./collectors/repository";
import { outbox } from "./db/schema";
import { identityDirectory } from "./identity-directory";
import { readInventoryConfig } from "./config";
import { jobTaskHandlers } from "./job-tasks/handlers";
import { JobTasks } from "./job-tasks/job-tasks";
import { JobTaskRepository } from "./job-tasks/repository";
import { jobHandlers } from "./jobs/handlers";
import { JobLauncher } from "./jobs/job-launcher";
import { JobRepository } from "./jobs/repository";
import { JobWatchHub } from "./jobs/job-watch";
import { followSweepResults } from "./jobs/sweep-results";
import { startTimeoutSweeper } from "./jobs/timeout-sweeper";
import { startJobPruner } from "./jobs/job-pruner";
import { ScheduleRepository } from "./schedules/repository";
import { startScheduler } from "./schedules/scheduler";

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
  async create({ db, bus, logger, kickOutbox, env, config: serviceConfig }) {
    const config = readInventoryConfig(env);
    const credentialKeys = config.credentialKeys ?? (await credentialKeyFile(serviceConfig.dataDir));
    if (!config.credentialKeys && serviceConfig.databaseUrl) {
      logger.warn("INVENTORY_CREDENTIALS_KEYS is unset: pull credentials are sealed with a key kept under the data dir; replicas must share one key");
    }
    const collectors = new CollectorRepository(db, kickOutbox);
    const jobs = new JobRepository(db, kickOutbox);
    const identity = identityDirectory(config.identityUrl, logger);
    const tasks = new JobTasks(new JobTaskRepository(db, kickOutbox), jobs, identity);
    // Pull and scheduled jobs run under the collector's service identity, whose tokens identity mints.
    const credentials = new CollectionCredentials(credentialKeys, identity);
    // CLOUDFORET_OUTBOUND_*, read once.
    const plugins = new PluginClients(logger, 60_000, OutboundPolicy.fromEnv(env), config.pluginMaxMessageBytes, config.pluginMetadataMaxBytes);
    // The plugin registry: collectors naming a plugin resolve its endpoint at every call through the router.
    const registry = new PluginRepository(db);
    const pluginRouter = new PluginRouter(registry, logger);
    const collectorRules = new CollectorRuleRepository(db, kickOutbox);
    const sink = withCollectorRules(cloudServiceSink(config.cloudServiceUrl, logger), collectorRules, logger);
    const pull = new PullCollection({
      tasks,
      leases: new PullLeases(db),
      credentials,
      identity,
      plugins,
      pluginRouter,
      sink,
      logger,
      concurrency: config.pullConcurrency,
      replicaId: config.replicaId,
      leaseMs: config.pullLeaseMs,
      pollMs: config.pullPollMs,
      notifications: notificationsOf(db),
      upsertMaxMessageBytes: config.upsertMaxMessageBytes,
    });
    const launcher = new JobLauncher(collectors, jobs, tasks, identity, pull, config.defaultJobTimeoutS, credentials, logger);
    const schedules = new ScheduleRepository(db);
    const hub = new JobWatchHub(bus, logger);
    await hub.start();
    // A job canceled or timed out on another replica stops this replica's streams too.
    const unfollow = hub.onEveryChange((change) => {
      if (change.data.task === undefined && (change.data.status === "CANCELED" || change.data.status === "TIMEOUT")) pull.stop(change.data.job_id);
    });
    const sweepResults = await followSweepResults({ db, bus, tasks, logger, kickOutbox });
    // Claims pull tasks (new, handed back, or left by a replica that died) and streams them.
    pull.start();
    const sweeper = startTimeoutSweeper({
      jobs,
      pull,
      logger,
      intervalMs: config.timeoutSweepIntervalMs,
      notifications: notificationsOf(db),
      silentPlugins: { tasks, idleMs: config.pluginIdleTimeoutS * 1000 },
    });
    // Collector schedules fire once across replicas; finished jobs older than the retention go.
    const scheduler = startScheduler({ schedules, launcher, credentials, logger, pollMs: config.timeoutSweepIntervalMs, notifications: notificationsOf(db) });
    const healthChecker = startPluginHealthChecker({ registry, plugins, logger, intervalMs: config.pluginHealthIntervalMs });
    const enrollments = new EnrollmentRepository(db);
    const enrollmentSealer = new JsonSealer<JsonObject>(credentialKeys, "INVENTORY_CREDENTIALS_KEYS");
    const verifier = startEnrollmentVerifier({ enrollments, router: pluginRouter, plugins, sealer: enrollmentSealer, logger, pollMs: config.enrollmentPollMs });
    const pruner = startJobPruner({ db, logger, retentionDays: config.jobRetentionDays, intervalMs: config.jobPruneIntervalS * 1000 });
    return {
      services: [CollectorService, JobService, JobTaskService, CollectorRuleService, PluginService, PluginAliasService, EnrollmentService],
      routes(router) {
        router.service(CollectorService, collectorHandlers({ collectors, identity, plugins, launcher, schedules, pluginRouter }));
        router.service(JobService, jobHandlers({ jobs, launcher, pull, hub }));
        router.service(JobTaskService, jobTaskHandlers(tasks));
        router.service(PluginService, pluginHandlers({ registry, router: pluginRouter, policy: plugins.policy, checkHealthNow: healthChecker.kick }));
        router.service(PluginAliasService, pluginAliasHandlers({ registry, router: pluginRouter, policy: plugins.policy }));
        router.service(EnrollmentService, enrollmentHandlers({ enrollments, router: pluginRouter, identity, sealer: enrollmentSealer, verifyNow: verifier.kick }));
        router.service(CollectorRuleService, collectorRuleHandlers({ rules: collectorRules, collectors, dryRun: new RuleDryRun(config.cloudServiceUrl, logger), logger }));
      },
      async close() {
        await verifier.stop();
        await healthChecker.stop();
        await scheduler.stop();
        await pruner.stop();
        await sweeper.stop();
        unfollow();
        await pull.close();
        await sweepResults.close();
        await hub.close();
      },
    };
  },
};
