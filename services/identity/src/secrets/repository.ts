import type { JsonObject } from "@bufbuild/protobuf";
import { and, eq } from "drizzle-orm";
import type { Database } from "@cloudforet/db";
import { isUniqueViolation, violatedConstraint } from "@cloudforet/db";
import { conflict } from "@cloudforet/errors";
import { col, defineQueryFields, json, listWith, scopeCondition, type QueryInput, type TenantScope } from "@cloudforet/query";
import { emitEvent } from "../db/emit-event";
import { secrets, serviceAccounts, type SecretRow } from "../db/schema";
import { generatedId } from "../fields/field-rules";
import type { SecretVault } from "./secret-vault";

/** What List can see of a secret: metadata only (never the key id or ciphertext). */
export const secretFields = defineQueryFields(
  {
    secret_id: col(secrets.secretId),
    name: col(secrets.name),
    tags: json(secrets.tags),
    workspace_id: col(secrets.workspaceId),
    service_account_id: col(secrets.serviceAccountId),
    expires_at: col(secrets.expiresAt),
    domain_id: col(secrets.domainId),
    created_at: col(secrets.createdAt),
    updated_at: col(secrets.updatedAt),
  },
  { keywordFields: ["secret_id", "name"], defaultSort: [{ key: "workspace_id" }, { key: "name" }] },
);

/** Secret rows without their sealed value, for every read but GetData. */
export type SecretMetadata = Omit<SecretRow, "keyId" | "ciphertext">;

export interface NewSecret {
  domainId: string;
  workspaceId: string;
  name: string;
  data: JsonObject;
  tags: Record<string, string>;
  serviceAccountId: string;
  expiresAt: Date | null;
}

export interface SecretUpsert {
  domainId: string;
  workspaceId: string;
  name: string;
  data: JsonObject;
  /** Merged into an existing secret's tags. */
  tags: Record<string, string>;
  /** Undefined keeps the current link. */
  serviceAccountId?: string;
  /** Undefined keeps the current expiry. */
  expiresAt?: Date;
}

const byId = (domainId: string, secretId: string) => and(eq(secrets.domainId, domainId), eq(secrets.secretId, secretId));
const byName = (domainId: string, workspaceId: string, name: string) =>
  and(eq(secrets.domainId, domainId), eq(secrets.workspaceId, workspaceId), eq(secrets.name, name));

function metadata(row: SecretRow): SecretMetadata {
  const { keyId: _keyId, ciphertext: _ciphertext, ...rest } = row;
  return rest;
}

export class SecretRepository {
  constructor(
    private readonly db: Database,
    private readonly vault: SecretVault,
    private readonly onCommit: () => void,
  ) {}

  async create(input: NewSecret): Promise<SecretMetadata> {
    for (let attempt = 0; ; attempt++) {
      const secretId = generatedId("secret");
      try {
        const row = await this.db.transaction(async (tx) => {
          const sealed = this.vault.seal(input.domainId, secretId, input.data);
          const [created] = await tx
            .insert(secrets)
            .values({ ...input, secretId, keyId: sealed.keyId, ciphertext: sealed.ciphertext })
            .returning();
          await emitEvent(tx, "secret", "created", input.domainId, { domain_id: input.domainId, secret_id: secretId, workspace_id: input.workspaceId, name: input.name });
          return created;
        });
        this.onCommit();
        return metadata(row);
      } catch (err) {
        if (!isUniqueViolation(err)) throw err;
        // A clash of generated ids is retried; a clash of names is the caller's conflict.
        if (violatedConstraint(err) === "secrets_pkey" && attempt < 3) continue;
        throw conflict("Secret already exists", { name: input.name, workspace_id: input.workspaceId });
      }
    }
  }

  async get(domainId: string, secretId: string): Promise<SecretMetadata | undefined> {
    const [row] = await this.db.select().from(secrets).where(byId(domainId, secretId));
    return row && metadata(row);
  }

  /** The decrypted value; only SecretService.GetData calls this. */
  async data(domainId: string, secretId: string): Promise<JsonObject | undefined> {
    const [row] = await this.db.select({ keyId: secrets.keyId, ciphertext: secrets.ciphertext }).from(secrets).where(byId(domainId, secretId));
    return row && this.vault.open(domainId, secretId, row);
  }

  /** Creates or replaces the secret named `name` in the workspace; `created` says which. */
  async set(input: SecretUpsert): Promise<{ row: SecretMetadata; created: boolean }> {
    for (let attempt = 0; ; attempt++) {
      try {
        const result = await this.db.transaction(async (tx) => {
          const [current] = await tx.select().from(secrets).where(byName(input.domainId, input.workspaceId, input.name)).for("update");
          if (!current) {
            const secretId = generatedId("secret");
            const sealed = this.vault.seal(input.domainId, secretId, input.data);
            const [created] = await tx
              .insert(secrets)
              .values({
                secretId,
                domainId: input.domainId,
                workspaceId: input.workspaceId,
                name: input.name,
                tags: input.tags,
                serviceAccountId: input.serviceAccountId ?? "",
                expiresAt: input.expiresAt ?? null,
                keyId: sealed.keyId,
                ciphertext: sealed.ciphertext,
              })
              .returning();
            await emitEvent(tx, "secret", "created", input.domainId, { domain_id: input.domainId, secret_id: secretId, workspace_id: input.workspaceId, name: input.name });
            return { row: created, created: true };
          }
          const sealed = this.vault.seal(input.domainId, current.secretId, input.data);
          const [updated] = await tx
            .update(secrets)
            .set({
              tags: { ...current.tags, ...input.tags },
              serviceAccountId: input.serviceAccountId ?? current.serviceAccountId,
              expiresAt: input.expiresAt ?? current.expiresAt,
              keyId: sealed.keyId,
              ciphertext: sealed.ciphertext,
              updatedAt: new Date(),
            })
            .where(byId(input.domainId, current.secretId))
            .returning();
          await emitEvent(tx, "secret", "updated", input.domainId, { domain_id: input.domainId, secret_id: current.secretId, workspace_id: input.workspaceId, name: input.name });
          return { row: updated, created: false };
        });
        this.onCommit();
        return { row: metadata(result.row), created: result.created };
      } catch (err) {
        // Two first Sets of one name raced; the loser now finds the winner's row and replaces it.
        if (isUniqueViolation(err) && attempt < 3) continue;
        throw err;
      }
    }
  }

  list(scope: TenantScope, query: QueryInput) {
    return listWith(this.db, secrets, secretFields, query, scopeCondition(scope, secrets));
  }

  /** Deletes the secret and unlinks the service accounts that pointed at it. */
  async delete(domainId: string, secretId: string): Promise<boolean> {
    const deleted = await this.db.transaction(async (tx) => {
      const gone = await tx.delete(secrets).where(byId(domainId, secretId)).returning({ workspaceId: secrets.workspaceId, name: secrets.name });
      if (gone.length === 0) return false;
      await tx
        .update(serviceAccounts)
        .set({ secretId: "", updatedAt: new Date() })
        .where(and(eq(serviceAccounts.domainId, domainId), eq(serviceAccounts.secretId, secretId)));
      await emitEvent(tx, "secret", "deleted", domainId, { domain_id: domainId, secret_id: secretId, workspace_id: gone[0].workspaceId, name: gone[0].name });
      return true;
    });
    if (deleted) this.onCommit();
    return deleted;
  }
}
