import type { JsonObject } from "@bufbuild/protobuf";
import { sql } from "drizzle-orm";
import { bigint, boolean, index, integer, jsonb, pgSchema, text, timestamp, uniqueIndex, uuid } from "drizzle-orm/pg-core";
import { outboxTable, processedEventsTable } from "@cloudforet/events";

export const notificationSchema = pgSchema("notification");

/** Events written in the same transaction as the change, relayed to NATS (SPEC §9). */
export const outbox = outboxTable(notificationSchema);

/** Events the consumers here already applied (job.finished → one notification, however often it arrives). */
export const processedEvents = processedEventsTable(notificationSchema);

export type ChannelType = "WEBHOOK" | "SLACK" | "EMAIL";

/**
 * Where notifications go. `options` never holds credentials: they live in an identity secret
 * (`secret_id`), of which the service keeps only a sealed copy (AES-256-GCM) so that deliveries
 * nobody is waiting on (retries, platform events) can still authenticate.
 */
export const channels = notificationSchema.table(
  "channels",
  {
    channelId: text("channel_id").primaryKey(),
    domainId: text("domain_id").notNull(),
    /** "" for a domain-wide channel. */
    workspaceId: text("workspace_id").notNull(),
    name: text("name").notNull(),
    channelType: text("channel_type").$type<ChannelType>().notNull(),
    options: jsonb("options").$type<JsonObject>().notNull().default({}),
    secretId: text("secret_id").notNull().default(""),
    /** The secret's data as sealed by `CredentialSealer`; null without a secret. */
    sealedCredentials: text("sealed_credentials"),
    credentialsFetchedAt: timestamp("credentials_fetched_at", { withTimezone: true }),
    tags: jsonb("tags").$type<Record<string, string>>().notNull().default({}),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex("channels_domain_workspace_name_idx").on(t.domainId, t.workspaceId, t.name)],
);

export type ChannelRow = typeof channels.$inferSelect;

export type Severity = "INFO" | "WARNING" | "ERROR" | "CRITICAL";
export type NotificationType = "USER" | "SYSTEM";

/** Stored notifications: the inbox (is_read) and what was asked for (channels, recipients). */
export const notifications = notificationSchema.table(
  "notifications",
  {
    notificationId: text("notification_id").primaryKey(),
    domainId: text("domain_id").notNull(),
    workspaceId: text("workspace_id").notNull(),
    title: text("title").notNull(),
    message: text("message").notNull(),
    severity: text("severity").$type<Severity>().notNull(),
    notificationType: text("notification_type").$type<NotificationType>().notNull(),
    tags: jsonb("tags").$type<Record<string, string>>().notNull().default({}),
    channels: jsonb("channels").$type<string[]>().notNull().default([]),
    recipients: jsonb("recipients").$type<string[]>().notNull().default([]),
    isRead: boolean("is_read").notNull().default(false),
    readAt: timestamp("read_at", { withTimezone: true }),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index("notifications_domain_created_idx").on(t.domainId, t.createdAt)],
);

export type NotificationRow = typeof notifications.$inferSelect;

export type DeliveryStatus = "PENDING" | "SUCCEEDED" | "FAILED" | "SKIPPED";

/** One row per delivery attempt (Delivery in the contract), oldest first by `sequence`. */
export const deliveries = notificationSchema.table(
  "deliveries",
  {
    sequence: bigint("sequence", { mode: "number" }).generatedAlwaysAsIdentity().primaryKey(),
    notificationId: text("notification_id").notNull(),
    /** The channel id tried, or the unmatched Send entry as written (SKIPPED). */
    channel: text("channel").notNull(),
    status: text("status").$type<DeliveryStatus>().notNull(),
    attempt: integer("attempt").notNull(),
    error: text("error").notNull().default(""),
    at: timestamp("at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index("deliveries_notification_idx").on(t.notificationId, t.sequence)],
);

export type DeliveryRow = typeof deliveries.$inferSelect;

export type QueueState = "PENDING" | "SUCCEEDED" | "FAILED";

/**
 * The durable delivery queue: one row per (notification, channel) until it succeeds or gives up.
 * Workers claim due rows with FOR UPDATE SKIP LOCKED and hold them by a lease (`leased_until`), so
 * any number of replicas share the work and a crashed worker's rows come back when the lease ends.
 */
export const deliveryQueue = notificationSchema.table(
  "delivery_queue",
  {
    queueId: uuid("queue_id").primaryKey(),
    notificationId: text("notification_id").notNull(),
    domainId: text("domain_id").notNull(),
    channelId: text("channel_id").notNull(),
    /** Opaque key of the destination (a hash of its URL or SMTP server): breaker and concurrency unit. */
    endpointKey: text("endpoint_key").notNull(),
    state: text("state").$type<QueueState>().notNull().default("PENDING"),
    /** Attempts made so far (the next one is attempts + 1). */
    attempts: integer("attempts").notNull().default(0),
    nextAttemptAt: timestamp("next_attempt_at", { withTimezone: true }).notNull().defaultNow(),
    leasedUntil: timestamp("leased_until", { withTimezone: true }),
    /**
     * New on every claim: the holder's proof that it still owns the row. Sending requires it (and an
     * unexpired lease), and an attempt is recorded only with it, so a worker that lost its lease while
     * stalled neither sends nor writes a result over the new holder's.
     */
    leaseToken: uuid("lease_token"),
    lastError: text("last_error").notNull().default(""),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    index("delivery_queue_due_idx").on(t.nextAttemptAt).where(sql`state = 'PENDING'`),
    uniqueIndex("delivery_queue_notification_channel_idx").on(t.notificationId, t.channelId),
  ],
);

export type QueueRow = typeof deliveryQueue.$inferSelect;

export type BreakerState = "closed" | "open" | "half-open";

/**
 * One circuit breaker per endpoint, shared by every replica. Changed only by single statements under
 * the row's lock, with the database's clock, so N replicas open it after `failure threshold` failures
 * in total and exactly one of them takes each half-open probe. `next_probe_at` is when an open breaker
 * lets its probe through, and while half-open, when an unanswered probe (its replica died) may be
 * taken again.
 */
export const endpointBreakers = notificationSchema.table("endpoint_breakers", {
  endpointKey: text("endpoint_key").primaryKey(),
  /** Safe to log (the URL's origin or the SMTP server); "" until the first attempt reports. */
  label: text("label").notNull().default(""),
  state: text("state").$type<BreakerState>().notNull().default("closed"),
  consecutiveFailures: integer("consecutive_failures").notNull().default(0),
  openedAt: timestamp("opened_at", { withTimezone: true }),
  nextProbeAt: timestamp("next_probe_at", { withTimezone: true }),
  updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
});

export type EndpointBreakerRow = typeof endpointBreakers.$inferSelect;
