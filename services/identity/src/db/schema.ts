import type { JsonObject } from "@bufbuild/protobuf";
import type { JWK } from "jose";
import { sql } from "drizzle-orm";
import { boolean, foreignKey, index, integer, jsonb, pgSchema, primaryKey, text, timestamp, uniqueIndex } from "drizzle-orm/pg-core";
import { outboxTable } from "@cloudforet/events";

export const identitySchema = pgSchema("identity");

/** Events written in the same transaction as the change, relayed to NATS (SPEC §9). */
export const outbox = outboxTable(identitySchema);

const createdAt = () => timestamp("created_at", { withTimezone: true }).notNull().defaultNow();
const updatedAt = () => timestamp("updated_at", { withTimezone: true }).notNull().defaultNow();
const tags = () => jsonb("tags").$type<Record<string, string>>().notNull().default({});

export type EntityState = "ENABLED" | "DISABLED";

/** Tenants. `domain-default` is created on first start. */
export const domains = identitySchema.table("domains", {
  domainId: text("domain_id").primaryKey(),
  name: text("name").notNull(),
  state: text("state").$type<EntityState>().notNull().default("ENABLED"),
  tags: tags(),
  createdAt: createdAt(),
  updatedAt: updatedAt(),
});

/** Partitions of a domain; ids are unique per domain. */
export const workspaces = identitySchema.table(
  "workspaces",
  {
    domainId: text("domain_id").notNull(),
    workspaceId: text("workspace_id").notNull(),
    name: text("name").notNull(),
    state: text("state").$type<EntityState>().notNull().default("ENABLED"),
    tags: tags(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [primaryKey({ columns: [t.domainId, t.workspaceId] })],
);

export const projects = identitySchema.table(
  "projects",
  {
    domainId: text("domain_id").notNull(),
    projectId: text("project_id").notNull(),
    name: text("name").notNull(),
    workspaceId: text("workspace_id").notNull(),
    tags: tags(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [primaryKey({ columns: [t.domainId, t.projectId] }), index("projects_workspace_idx").on(t.domainId, t.workspaceId)],
);

/** People and service/plugin accounts. `password_hash` is null for accounts that only use API keys. */
export const users = identitySchema.table(
  "users",
  {
    domainId: text("domain_id").notNull(),
    userId: text("user_id").notNull(),
    name: text("name").notNull().default(""),
    email: text("email").notNull().default(""),
    state: text("state").$type<EntityState>().notNull().default("ENABLED"),
    passwordHash: text("password_hash"),
    tags: tags(),
    lastLoginAt: timestamp("last_login_at", { withTimezone: true }),
    /** Tokens issued at or before this second are no longer accepted (password change, disable). */
    tokensRevokedAt: timestamp("tokens_revoked_at", { withTimezone: true }),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [primaryKey({ columns: [t.domainId, t.userId] })],
);

export type RoleName = "DOMAIN_ADMIN" | "WORKSPACE_OWNER" | "WORKSPACE_MEMBER";

/** One role of a user; `workspace_id` is "" for DOMAIN_ADMIN. */
export const roleBindings = identitySchema.table(
  "role_bindings",
  {
    domainId: text("domain_id").notNull(),
    userId: text("user_id").notNull(),
    role: text("role").$type<RoleName>().notNull(),
    workspaceId: text("workspace_id").notNull().default(""),
    createdAt: createdAt(),
  },
  (t) => [
    primaryKey({ columns: [t.domainId, t.userId, t.role, t.workspaceId] }),
    foreignKey({ columns: [t.domainId, t.userId], foreignColumns: [users.domainId, users.userId] }).onDelete("cascade"),
    index("role_bindings_workspace_idx").on(t.domainId, t.workspaceId),
  ],
);

/** Provider accounts collectors collect from; credentials live in the linked secret. */
export const serviceAccounts = identitySchema.table(
  "service_accounts",
  {
    domainId: text("domain_id").notNull(),
    serviceAccountId: text("service_account_id").notNull(),
    name: text("name").notNull(),
    provider: text("provider").notNull(),
    data: jsonb("data").$type<JsonObject>().notNull().default({}),
    tags: tags(),
    projectId: text("project_id").notNull().default(""),
    workspaceId: text("workspace_id").notNull(),
    secretId: text("secret_id").notNull().default(""),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [primaryKey({ columns: [t.domainId, t.serviceAccountId] }), index("service_accounts_workspace_idx").on(t.domainId, t.workspaceId)],
);

export type ApiKeyState = "ENABLED" | "REVOKED";

/** API keys: only the SHA-256 of the key is kept, plus its first characters to tell keys apart. */
export const apiKeys = identitySchema.table(
  "api_keys",
  {
    apiKeyId: text("api_key_id").primaryKey(),
    domainId: text("domain_id").notNull(),
    userId: text("user_id").notNull(),
    name: text("name").notNull().default(""),
    keyHash: text("key_hash").notNull(),
    keyPrefix: text("key_prefix").notNull(),
    state: text("state").$type<ApiKeyState>().notNull().default("ENABLED"),
    expiresAt: timestamp("expires_at", { withTimezone: true }),
    lastUsedAt: timestamp("last_used_at", { withTimezone: true }),
    revokedAt: timestamp("revoked_at", { withTimezone: true }),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [uniqueIndex("api_keys_key_hash_idx").on(t.keyHash), index("api_keys_user_idx").on(t.domainId, t.userId)],
);

/**
 * Credentials, encrypted with AES-256-GCM. `ciphertext` is base64 of iv ‖ tag ‖ encrypted JSON;
 * `key_id` names the key of IDENTITY_SECRET_KEYS that encrypted it, so keys can rotate.
 */
export const secrets = identitySchema.table(
  "secrets",
  {
    secretId: text("secret_id").primaryKey(),
    domainId: text("domain_id").notNull(),
    workspaceId: text("workspace_id").notNull(),
    name: text("name").notNull(),
    tags: tags(),
    serviceAccountId: text("service_account_id").notNull().default(""),
    expiresAt: timestamp("expires_at", { withTimezone: true }),
    keyId: text("key_id").notNull(),
    ciphertext: text("ciphertext").notNull(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [uniqueIndex("secrets_workspace_name_idx").on(t.domainId, t.workspaceId, t.name)],
);

/** Issued refresh tokens (by JWT id): single use, revocable. */
export const refreshTokens = identitySchema.table(
  "refresh_tokens",
  {
    jti: text("jti").primaryKey(),
    domainId: text("domain_id").notNull(),
    userId: text("user_id").notNull(),
    apiKeyId: text("api_key_id"),
    expiresAt: timestamp("expires_at", { withTimezone: true }).notNull(),
    usedAt: timestamp("used_at", { withTimezone: true }),
    revokedAt: timestamp("revoked_at", { withTimezone: true }),
    createdAt: createdAt(),
  },
  (t) => [index("refresh_tokens_user_idx").on(t.domainId, t.userId)],
);

/**
 * Failed-login throttles shared by every identity replica (a counter in memory would give each replica
 * its own allowance). One row per key: a client address, an account (domain + user id, known or not)
 * or an account from one address. `blocked_until` is when the next attempt may be made.
 */
export const loginThrottles = identitySchema.table(
  "login_throttles",
  {
    key: text("key").primaryKey(),
    failures: integer("failures").notNull(),
    lastFailureAt: timestamp("last_failure_at", { withTimezone: true }).notNull(),
    blockedUntil: timestamp("blocked_until", { withTimezone: true }),
  },
  (t) => [index("login_throttles_last_failure_idx").on(t.lastFailureAt)],
);

/** Token signing keys (Ed25519). The private JWK is encrypted like a secret; retired keys leave the JWKS. */
export const signingKeys = identitySchema.table(
  "signing_keys",
  {
    kid: text("kid").primaryKey(),
    publicJwk: jsonb("public_jwk").$type<JWK>().notNull(),
    privateKeyCiphertext: text("private_key_ciphertext").notNull(),
    keyId: text("key_id").notNull(),
    active: boolean("active").notNull().default(false),
    createdAt: createdAt(),
    retiredAt: timestamp("retired_at", { withTimezone: true }),
  },
  // At most one key signs at a time, even when replicas start together.
  (t) => [uniqueIndex("signing_keys_one_active_idx").on(t.active).where(sql`${t.active}`)],
);

export type DomainRow = typeof domains.$inferSelect;
export type WorkspaceRow = typeof workspaces.$inferSelect;
export type ProjectRow = typeof projects.$inferSelect;
export type UserRow = typeof users.$inferSelect;
export type RoleBindingRow = typeof roleBindings.$inferSelect;
export type ServiceAccountRow = typeof serviceAccounts.$inferSelect;
export type ApiKeyRow = typeof apiKeys.$inferSelect;
export type SecretRow = typeof secrets.$inferSelect;
export type SigningKeyRow = typeof signingKeys.$inferSelect;

export type ServiceIdentityState = "ENABLED" | "REVOKED";

/**
 * Service identities (service-identities/): the platform's own principal in a workspace, held by a
 * trusted service for unattended work. Only the SHA-256 of its credential is kept.
 */
export const serviceIdentities = identitySchema.table(
  "service_identities",
  {
    serviceIdentityId: text("service_identity_id").primaryKey(),
    domainId: text("domain_id").notNull(),
    workspaceId: text("workspace_id").notNull(),
    service: text("service").notNull(),
    credentialHash: text("credential_hash").notNull(),
    state: text("state").$type<ServiceIdentityState>().notNull().default("ENABLED"),
    grantedBy: text("granted_by").notNull(),
    createdAt: createdAt(),
    revokedAt: timestamp("revoked_at", { withTimezone: true }),
  },
  (t) => [uniqueIndex("service_identities_credential_hash_idx").on(t.credentialHash), index("service_identities_domain_idx").on(t.domainId, t.workspaceId)],
);

export type ServiceIdentityRow = typeof serviceIdentities.$inferSelect;

/**
 * Request logging switches (request-logs/): one row per caller that ever started logging, a user or
 * an API key. Every service learns the switch from the `request_logging.changed` event.
 */
export const requestLoggingSwitches = identitySchema.table(
  "request_logging_switches",
  {
    domainId: text("domain_id").notNull(),
    callerType: text("caller_type").$type<"USER" | "API_KEY">().notNull(),
    callerId: text("caller_id").notNull(),
    enabled: boolean("enabled").notNull(),
    mode: text("mode").$type<"TRUNCATED" | "COMPLETE">().notNull(),
    updatedAt: updatedAt(),
  },
  (t) => [primaryKey({ columns: [t.domainId, t.callerType, t.callerId] })],
);

/**
 * Recorded calls (request-logs/), from every service through NATS. `request_log_id` derives from the
 * record's event id, so a redelivered record is stored once. Pruned after the retention period.
 */
export const requestLogs = identitySchema.table(
  "request_logs",
  {
    requestLogId: text("request_log_id").primaryKey(),
    domainId: text("domain_id").notNull(),
    userId: text("user_id").notNull(),
    apiKeyId: text("api_key_id").notNull().default(""),
    requestId: text("request_id").notNull(),
    service: text("service").notNull(),
    path: text("path").notNull(),
    status: integer("status").notNull(),
    code: text("code").notNull(),
    errorType: text("error_type").notNull().default(""),
    errorSource: text("error_source").notNull().default(""),
    errorMessage: text("error_message").notNull().default(""),
    durationMs: integer("duration_ms").notNull(),
    workspaceId: text("workspace_id").notNull().default(""),
    mode: text("mode").$type<"TRUNCATED" | "COMPLETE">().notNull(),
    truncated: boolean("truncated").notNull().default(false),
    requestBody: jsonb("request_body"),
    responseBody: jsonb("response_body"),
    eventTimestamp: timestamp("event_timestamp", { withTimezone: true }).notNull(),
  },
  (t) => [
    index("request_logs_caller_time_idx").on(t.domainId, t.userId, t.eventTimestamp),
    index("request_logs_time_idx").on(t.eventTimestamp),
  ],
);

export type RequestLoggingSwitchRow = typeof requestLoggingSwitches.$inferSelect;
export type RequestLogRow = typeof requestLogs.$inferSelect;
