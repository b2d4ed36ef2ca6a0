import { randomUUID } from "node:crypto";
import { fileURLToPath } from "node:url";
import { notificationsOf } from "@cloudforet/db";
import { ProcessedEvents, type EventSubscription, notificationSubjects } from "@cloudforet/events";
import { ChannelService } from "@cloudforet/proto/cloudforet/notification/v1/channel_pb";
import { NotificationService } from "@cloudforet/proto/cloudforet/notification/v1/notification_pb";
import { OutboundPolicy } from "@cloudforet/outbound";
import { reportCircuitStates } from "@cloudforet/resilience";
import type { ServiceModule } from "@cloudforet/runtime";
import { ChannelCredentials } from "./channels/channel-credentials";
import { CredentialSealer, credentialKeyFile } from "./channels/credential-sealer";
import { channelHandlers } from "./channels/handlers";
import { ChannelRepository } from "./channels/repository";
import { IdentitySecretReader } from "./channels/secret-reader";
import { consumeAlertNotices } from "./alert-notices/alert-notice-consumer";
import { consumeBudgetNotices } from "./budget-notices/budget-notice-consumer";
import { readNotificationConfig } from "./config";
import { outbox, processedEvents } from "./db/schema";
import { DeliveryQueue } from "./delivery/delivery-queue";
import { DeliveryWorker } from "./delivery/delivery-worker";
import { EndpointBreakers } from "./delivery/endpoint-breakers";
import { notificationHandlers } from "./notifications/handlers";
import { consumeJobFinished } from "./notifications/job-finished-consumer";
import { NotificationSender } from "./notifications/notification-sender";
import { NotificationRepository } from "./notifications/repository";

export { jobFinishedNotification, JOB_FINISHED_SUBJECT, type JobFinishedData } from "./notifications/job-finished-consumer";

const NOTIFICATION_CREATED_SUBJECT = notificationSubjects.notificationCreated;

/**
 * The notification service (SPEC §7): channels (webhook, Slack, e-mail) and notifications with real,
 * asynchronous delivery from a durable queue, plus a notification for every finished collection job.
 */
export const notificationModule: ServiceModule = {
  name: "notification",
  domain: "cloudforet.notification.v1",
  defaultPort: 50056,
  schema: "notification",
  migrationsFolder: fileURLToPath(new URL("../drizzle", import.meta.url)),
  outbox,
  async create({ db, bus, logger, config: serviceConfig, env, kickOutbox }) {
    const config = readNotificationConfig(env, serviceConfig);
    const outbound = OutboundPolicy.fromEnv(env); // CLOUDFORET_OUTBOUND_*, read once at start
    // Without DATABASE_URL (embedded, one process) a key file will do; config refuses it otherwise.
    const keys = config.credentialKeys ?? (await credentialKeyFile(config.dataDir));
    const channels = new ChannelRepository(db, kickOutbox);
    const credentials = new ChannelCredentials(
      new CredentialSealer(keys),
      new IdentitySecretReader(config.identityUrl, logger),
      channels,
      config.credentialsRefreshMs,
      logger,
    );
    const workerLogger = logger.child({ component: "delivery-worker" });
    const breakers = new EndpointBreakers(db, { failureThreshold: config.breakerFailures, resetTimeoutMs: config.breakerResetMs, logger: workerLogger });
    // The delivery breakers live in Postgres, not in opossum: the shared breaker gauge reads them on scrape.
    const stopBreakerGauge = reportCircuitStates(() => breakers.states());
    const worker = new DeliveryWorker(
      new DeliveryQueue(db, breakers),
      breakers,
      credentials,
      {
        maxAttempts: config.maxAttempts,
        retryBaseMs: config.retryBaseMs,
        retryMaxMs: config.retryMaxMs,
        leaseMs: config.leaseMs,
        concurrency: config.deliveryConcurrency,
        endpointConcurrency: config.endpointConcurrency,
        deliveryTimeoutMs: config.deliveryTimeoutMs,
        pollMs: config.pollMs,
        idlePollMs: config.idlePollMs,
        notifications: notificationsOf(db),
        outbound,
      },
      workerLogger,
    );
    const afterCommit = () => {
      kickOutbox();
      worker.wake();
    };
    const sender = new NotificationSender(db, channels, credentials, afterCommit, logger);
    const subscriptions: EventSubscription[] = [];
    try {
      // Other replicas' Sends wake this worker through the bus; each replica has its own wake-up consumer.
      subscriptions.push(
        await bus.subscribe({
          durable: `notification-delivery-wake-${randomUUID().slice(0, 8)}`,
          subjects: NOTIFICATION_CREATED_SUBJECT,
          deliverPolicy: "new",
          inactiveThresholdMs: 60_000,
          handler: () => worker.wake(),
          // Wake-ups sent while the bus recreated this consumer are lost; a pass finds what they announced.
          onGap: () => worker.wake(),
        }),
      );
      subscriptions.push(
        await consumeJobFinished({ bus, processed: new ProcessedEvents(db, processedEvents), sender, afterCommit, logger }),
      );
      subscriptions.push(await consumeAlertNotices({ bus, processed: new ProcessedEvents(db, processedEvents), sender, afterCommit, logger }));
      subscriptions.push(await consumeBudgetNotices({ bus, processed: new ProcessedEvents(db, processedEvents), sender, afterCommit, logger }));
    } catch (err) {
      await Promise.allSettled(subscriptions.map((s) => s.close()));
      throw err;
    }
    worker.start();
    const services = [ChannelService, NotificationService];
    return {
      services,
      routes(router) {
        router.service(ChannelService, channelHandlers({ repo: channels, credentials, deliveryTimeoutMs: config.deliveryTimeoutMs, outbound }));
        router.service(NotificationService, notificationHandlers(new NotificationRepository(db), sender));
      },
      async close() {
        stopBreakerGauge();
        await Promise.allSettled(subscriptions.map((s) => s.close()));
        await worker.close();
      },
    };
  },
};
