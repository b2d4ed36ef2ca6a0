import { createHash, randomBytes, randomUUID } from "node:crypto";
import { and, eq } from "drizzle-orm";
import type { Database } from "@cloudforet/db";
import { col, defineQueryFields, json, listWith, scopeCondition, type QueryInput, type TenantScope } from "@cloudforet/query";
import { alertWebhookKeys, type AlertWebhookKeyRow } from "../db/schema";

/** Webhook keys start with this, so the webhook tells them from JWTs (and leak scans find them). */
export const WEBHOOK_KEY_PREFIX = "cfw_";

export const webhookKeyFields = defineQueryFields(
  {
    webhook_key_id: col(alertWebhookKeys.webhookKeyId),
    name: col(alertWebhookKeys.name),
    channels: json(alertWebhookKeys.channels),
    escalation_policy_id: col(alertWebhookKeys.escalationPolicyId),
    domain_id: col(alertWebhookKeys.domainId),
    workspace_id: col(alertWebhookKeys.workspaceId),
    created_at: col(alertWebhookKeys.createdAt),
  },
  { keywordFields: ["name"], defaultSort: [{ key: "created_at" }, { key: "webhook_key_id" }] },
);

const hashOf = (key: string) => createHash("sha256").update(key).digest("hex");
const readable = (scope: TenantScope) => scopeCondition(scope, alertWebhookKeys, { domainWideRows: true });

/** Keys of `POST /api/v1/alerts/webhook`: shown once at creation, stored as SHA-256 only. */
export class WebhookKeyRepository {
  constructor(private readonly db: Database) {}

  async create(values: { domainId: string; workspaceId: string; name: string; channels: string[]; escalationPolicyId: string }): Promise<{ row: AlertWebhookKeyRow; key: string }> {
    const key = `${WEBHOOK_KEY_PREFIX}${randomBytes(32).toString("base64url")}`;
    const [row] = await this.db
      .insert(alertWebhookKeys)
      .values({ ...values, webhookKeyId: `webhook-key-${randomUUID()}`, keyHash: hashOf(key) })
      .returning();
    return { row, key };
  }

  /** The key's row, or undefined for an unknown (or revoked) key. */
  async verify(key: string): Promise<AlertWebhookKeyRow | undefined> {
    const [row] = await this.db.select().from(alertWebhookKeys).where(eq(alertWebhookKeys.keyHash, hashOf(key)));
    return row;
  }

  async get(scope: TenantScope, id: string): Promise<AlertWebhookKeyRow | undefined> {
    const [row] = await this.db.select().from(alertWebhookKeys).where(and(readable(scope), eq(alertWebhookKeys.webhookKeyId, id)));
    return row;
  }

  list(scope: TenantScope, query: QueryInput) {
    return listWith(this.db, alertWebhookKeys, webhookKeyFields, query, readable(scope));
  }

  async delete(row: AlertWebhookKeyRow): Promise<boolean> {
    const deleted = await this.db.delete(alertWebhookKeys).where(eq(alertWebhookKeys.webhookKeyId, row.webhookKeyId)).returning({ id: alertWebhookKeys.webhookKeyId });
    return deleted.length > 0;
  }
}
