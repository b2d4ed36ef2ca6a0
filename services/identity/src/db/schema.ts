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

/** Failed logins per (domain, user id) in the current window; keyed by the id given, known or not. */
export const loginFailures = identitySchema.table(
  "login_failures",
  {
    domainId: text("domain_id").notNull(),
    userId: text("user_id").notNull(),
    failures: integer("failures").notNull().default(0),
    windowStartedAt: timestamp("window_started_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.domainId, t.userId] })],
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
