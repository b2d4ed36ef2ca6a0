import { and, asc, eq } from "drizzle-orm";
import type { Database } from "@cloudforet/db";
import { isUniqueViolation } from "@cloudforet/db";
import { conflict, invalidParameter, missingParameter, notFound } from "@cloudforet/errors";
import type { OutboundPolicy } from "@cloudforet/outbound";
import type { Logger } from "pino";
import { ownerWhere, type Owner, type OwnerScope } from "../access/tenants";
import { credentials, type CredentialRow } from "../db/schema";
import type { Page } from "../instances/repository";
import type { CredentialSealer } from "../recurrent/credential-sealer";
import { optionalTime } from "../rest/rest-input";

export const CREDENTIAL_KINDS = ["api_key", "oauth2", "basic"] as const;

/** Ids flow into `credentials://<id>` references: URL-safe, as the engine requires. */
const CREDENTIAL_ID = /^[A-Za-z0-9._-]{1,255}$/;
const MAX_SECRET_CHARS = 65_536;

export interface CredentialInput {
  id?: unknown;
  name?: unknown;
  kind?: unknown;
  value?: unknown;
  expiresAt?: unknown;
  refreshUrl?: unknown;
  refreshToken?: unknown;
  enabled?: unknown;
  description?: unknown;
}

/**
 * The credentials registry of a tenant (the engine's `/credentials`): named secrets that step
 * params reference as `credentials://<id>`. The value and refresh token are sealed at rest with
 * ORCHESTRATION_CREDENTIALS_KEYS (AES-256-GCM, bound to the credential's owner and id, so a sealed
 * value copied to another row does not open), write-only through the API and never logged.
 */
export class Credentials {
  constructor(
    private readonly db: Database,
    private readonly options: { sealer: CredentialSealer; outbound: OutboundPolicy; logger: Logger },
  ) {}

  async create(owner: Owner, input: CredentialInput): Promise<CredentialRow> {
    const id = idOf(input.id);
    const name = textOf(input.name, "name", 256, true)!;
    const value = secretOf(input.value, "value", true)!;
    const kind = kindOf(input.kind) ?? "api_key";
    const refreshUrl = this.refreshUrlOf(input.refreshUrl);
    const refreshToken = secretOf(input.refreshToken, "refresh_token", false);
    if (kind === "oauth2" && refreshUrl && !refreshToken) throw invalidParameter("oauth2 credential with refresh_url requires refresh_token", { parameter: "refresh_token" });
    try {
      const [row] = await this.db
        .insert(credentials)
        .values({
          domainId: owner.domainId,
          tenantId: owner.tenantId,
          id,
          name,
          kind,
          sealedValue: this.seal(owner, id, "value", value),
          sealedRefreshToken: refreshToken ? this.seal(owner, id, "refresh_token", refreshToken) : null,
          refreshUrl: refreshUrl ?? null,
          expiresAt: optionalTime(input.expiresAt, "expires_at") ?? null,
          enabled: booleanOf(input.enabled) ?? true,
          description: textOf(input.description, "description", 1024, false) ?? null,
        })
        .returning();
      this.options.logger.info({ credential_id: id, tenant_id: owner.tenantId, kind }, "credential created");
      return row;
    } catch (err) {
      if (isUniqueViolation(err)) throw conflict(`credential '${id}' already exists`, { id });
      throw err;
    }
  }

  async get(owner: OwnerScope, id: string): Promise<CredentialRow> {
    const [row] = await this.db
      .select()
      .from(credentials)
      .where(and(ownerWhere(credentials, owner), eq(credentials.id, id)))
      .limit(1);
    if (!row) throw notFound(`credential '${id}' not found`, { id });
    return row;
  }

  async list(scope: OwnerScope, page: Page): Promise<CredentialRow[]> {
    return this.db.select().from(credentials).where(ownerWhere(credentials, scope)).orderBy(asc(credentials.tenantId), asc(credentials.id)).offset(page.offset).limit(page.limit);
  }

  /** Changes the fields given; a new `value` or `refresh_token` replaces the sealed one. */
  async update(owner: Owner, id: string, input: CredentialInput): Promise<CredentialRow> {
    const current = await this.get(owner, id);
    const fields: Partial<typeof credentials.$inferInsert> = { updatedAt: new Date() };
    const name = textOf(input.name, "name", 256, false);
    if (name !== undefined) fields.name = name;
    const kind = kindOf(input.kind);
    if (kind) fields.kind = kind;
    const value = secretOf(input.value, "value", false);
    if (value !== undefined) fields.sealedValue = this.seal(owner, current.id, "value", value);
    const refreshToken = secretOf(input.refreshToken, "refresh_token", false);
    if (refreshToken !== undefined) fields.sealedRefreshToken = this.seal(owner, current.id, "refresh_token", refreshToken);
    const refreshUrl = this.refreshUrlOf(input.refreshUrl);
    if (refreshUrl !== undefined) fields.refreshUrl = refreshUrl;
    const expiresAt = optionalTime(input.expiresAt, "expires_at");
    if (expiresAt) fields.expiresAt = expiresAt;
    const enabled = booleanOf(input.enabled);
    if (enabled !== undefined) fields.enabled = enabled;
    const description = textOf(input.description, "description", 1024, false);
    if (description !== undefined) fields.description = description;
    const [row] = await this.db
      .update(credentials)
      .set(fields)
      .where(and(eq(credentials.domainId, current.domainId), eq(credentials.tenantId, current.tenantId), eq(credentials.id, current.id)))
      .returning();
    return row;
  }

  async delete(owner: Owner, id: string): Promise<void> {
    const rows = await this.db
      .delete(credentials)
      .where(and(ownerWhere(credentials, owner), eq(credentials.id, id)))
      .returning({ id: credentials.id });
    if (rows.length === 0) throw notFound(`credential '${id}' not found`, { id });
  }

  /**
   * The secret of an enabled credential, opened for the engine (never for an API answer):
   * NOT_FOUND when absent, INVALID_ARGUMENT when disabled (a reference to it fails permanently).
   */
  async open(owner: Owner, id: string): Promise<string> {
    const row = await this.get(owner, id);
    if (!row.enabled) throw invalidParameter(`credential '${id}' is disabled`, { id });
    return this.options.sealer.open(row.sealedValue, boundTo(owner, id, "value")).value;
  }

  private seal(owner: Owner, id: string, field: string, secret: string): string {
    return this.options.sealer.seal({ value: secret }, boundTo(owner, id, field));
  }

  private refreshUrlOf(value: unknown): string | undefined {
    if (value === undefined || value === null || value === "") return undefined;
    if (typeof value !== "string" || value.length > 2048) throw invalidParameter("refresh_url must be a URL of at most 2048 characters", { parameter: "refresh_url" });
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      throw invalidParameter("refresh_url is not a URL", { parameter: "refresh_url" });
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") throw invalidParameter("refresh_url must be http or https", { parameter: "refresh_url" });
    this.options.outbound.validateStoredUrl(url, "refresh_url");
    return value;
  }
}

const boundTo = (owner: Owner, id: string, field: string) => `credential:${owner.domainId}/${owner.tenantId}/${id}:${field}`;

function idOf(value: unknown): string {
  if (value === undefined || value === null || value === "") throw missingParameter("id");
  if (typeof value !== "string" || !CREDENTIAL_ID.test(value)) throw invalidParameter("id may only contain alphanumerics, '-', '_', '.' (at most 255)", { parameter: "id" });
  return value;
}

function textOf(value: unknown, parameter: string, max: number, required: boolean): string | undefined {
  if (value === undefined || value === null || value === "") {
    if (required) throw missingParameter(parameter);
    return undefined;
  }
  if (typeof value !== "string" || value.length > max) throw invalidParameter(`${parameter} must be a string of at most ${max} characters`, { parameter });
  return value;
}

function secretOf(value: unknown, parameter: string, required: boolean): string | undefined {
  if (value === undefined || value === null || value === "") {
    if (required) throw missingParameter(parameter);
    return undefined;
  }
  // The message never echoes the value.
  if (typeof value !== "string" || value.length > MAX_SECRET_CHARS) throw invalidParameter(`${parameter} must be a string of at most ${MAX_SECRET_CHARS} characters`, { parameter });
  return value;
}

function kindOf(value: unknown): (typeof CREDENTIAL_KINDS)[number] | undefined {
  if (value === undefined || value === null || value === "") return undefined;
  if (typeof value !== "string" || !(CREDENTIAL_KINDS as readonly string[]).includes(value)) throw invalidParameter(`kind must be one of ${CREDENTIAL_KINDS.join(", ")}`, { parameter: "kind" });
  return value as (typeof CREDENTIAL_KINDS)[number];
}

function booleanOf(value: unknown): boolean | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "boolean") throw invalidParameter("enabled must be a boolean", { parameter: "enabled" });
  return value;
}
