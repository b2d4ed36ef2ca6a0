import { fileURLToPath } from "node:url";
import type { ServiceModule } from "@cloudforet/runtime";
import { MetricService } from "@cloudforet/proto/cloudforet/monitoring/v1/metric_pb";
import { createAlerting } from "./alerts/alerting";
import { readMonitoringConfig } from "./config";
import { outbox } from "./db/schema";
import { metricHandlers } from "./metrics/handlers";
import { MetricRepository } from "./metrics/repository";
import { DAY_MS, DayPartitions, dayOf } from "./partitions/day-partitions";
import { RetentionSweep } from "./partitions/retention-sweep";
import { ApiKeyLogin } from "./remote-write/api-key-login";
import { remoteWriteRoute } from "./remote-write/rest";

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
  create({ db, logger, env, config: serviceConfig, authenticate, kickOutbox }) {
    const config = readMonitoringConfig(env);
    const partitions = new DayPartitions(db);
    const metrics = new MetricRepository(db, partitions);
    const cutoff = () => new Date(Date.now() - config.retentionDays * DAY_MS);
    // Each pass also creates today's and tomorrow's partitions, so the day's first writes do no DDL.
    const sweep = new RetentionSweep(partitions, cutoff, config.sweepIntervalMs, logger, () => {
      const today = dayOf(Date.now());
      return Promise.all([partitions.ensure([today, today + 1]), metrics.forgetIdempotencyKeys()]).then(() => undefined);
    });
    sweep.start();
    // Alert rules, alerts, escalation policies, maintenance windows and POST /api/v1/alerts/webhook.
    const alerting = createAlerting({ db, logger, env, domain: "cloudforet.monitoring.v1", maxRequestBytes: serviceConfig.maxRequestBytes, authenticate, kickOutbox });
    alerting.start();
    const windowNow = () => ({ now: Date.now(), oldest: Date.now() - config.retentionDays * DAY_MS, retentionDays: config.retentionDays });
    const remoteWrite = remoteWriteRoute({
      metrics,
      authenticate,
      apiKeys: new ApiKeyLogin(env.IDENTITY_URL ?? "http://127.0.0.1:50051", logger),
      window: windowNow,
      maxBodyBytes: serviceConfig.maxRequestBytes,
      domain: "cloudforet.monitoring.v1",
      logger: logger.child({ component: "remote-write" }),
    });
    return {
      services: [MetricService, ...alerting.services],
      routes(router) {
        router.service(MetricService, metricHandlers(metrics, config.retentionDays));
        alerting.routes(router);
      },
      // POST /api/v1/write (Prometheus remote write), then alerting's routes.
      http: async (req, res) => (await remoteWrite(req, res)) || (alerting.http ? await alerting.http(req, res) : false),
      close: async () => {
        await alerting.stop();
        await sweep.stop();
      },
    };
  },
};
