import { fileURLToPath } from "node:url";
import type { ServiceModule } from "@cloudforet/runtime";
import { MetricService } from "@cloudforet/proto/cloudforet/monitoring/v1/metric_pb";
import { readMonitoringConfig } from "./config";
import { outbox } from "./db/schema";
import { metricHandlers } from "./metrics/handlers";
import { MetricRepository } from "./metrics/repository";
import { DAY_MS, DayPartitions, dayOf } from "./partitions/day-partitions";
import { RetentionSweep } from "./partitions/retention-sweep";

/**
 * The monitoring service (SPEC §7): metric samples in day partitions, pushed one by one, per resource
 * or streamed in bulk, read raw through the query language or as bucketed statistics, and dropped a
 * day at a time once older than MONITORING_RETENTION_DAYS.
 */
export const monitoringModule: ServiceModule = {
  name: "monitoring",
  domain: "cloudforet.monitoring.v1",
  defaultPort: 50055,
  schema: "monitoring",
  migrationsFolder: fileURLToPath(new URL("../drizzle", import.meta.url)),
  outbox,
  create({ db, logger, env }) {
    const config = readMonitoringConfig(env);
    const partitions = new DayPartitions(db);
    const metrics = new MetricRepository(db, partitions);
    const cutoff = () => new Date(Date.now() - config.retentionDays * DAY_MS);
    // Each pass also creates today's and tomorrow's partitions, so the day's first writes do no DDL.
    const sweep = new RetentionSweep(partitions, cutoff, config.sweepIntervalMs, logger, () => {
      const today = dayOf(Date.now());
      return partitions.ensure([today, today + 1]);
    });
    sweep.start();
    return {
      services: [MetricService],
      routes(router) {
        router.service(MetricService, metricHandlers(metrics, config.retentionDays));
      },
      close: () => sweep.stop(),
    };
  },
};
