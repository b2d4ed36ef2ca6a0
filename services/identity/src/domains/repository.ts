import { and, eq, isNull } from "drizzle-orm";
import type { Database } from "@cloudforet/db";
import { isUniqueViolation } from "@cloudforet/db";
import { conflict } from "@cloudforet/errors";
import { col, defineQueryFields, json, listWith, type QueryInput } from "@cloudforet/query";
import { emitEvent } from "../db/emit-event";
import {
  apiKeys,
  domains,
  projects,
  refreshTokens,
  roleBindings,
  secrets,
  serviceAccounts,
  users,
  workspaces,
  type DomainRow,
} from "../db/schema";

export const domainFields = defineQueryFields(
  {
    domain_id: col(domains.domainId),
    name: col(domains.name),
    state: col(domains.state),
    tags: json(domains.tags),
    created_at: col(domains.createdAt),
    updated_at: col(domains.updatedAt),
  },
  { keywordFields: ["domain_id", "name"], defaultSort: { key: "domain_id" } },
);

export interface NewDomain {
  domainId: string;
  name: string;
  tags: Record<string, string>;
  /** The domain's first DOMAIN_ADMIN, created in the same transaction. */
  admin?: { userId: string; passwordHash: string };
}

export class DomainRepository {
  constructor(
    private readonly db: Database,
    private readonly onCommit: () => void,
  ) {}

  async create(input: NewDomain): Promise<DomainRow> {
    try {
      const row = await this.db.transaction(async (tx) => {
        const [created] = await tx.insert(domains).values({ domainId: input.domainId, name: input.name, tags: input.tags }).returning();
        await emitEvent(tx, "domain", "created", created.domainId, { domain_id: created.domainId, name: created.name });
        if (input.admin) {
          await tx.insert(users).values({ domainId: created.domainId, userId: input.admin.userId, passwordHash: input.admin.passwordHash });
          await tx.insert(roleBindings).values({ domainId: created.domainId, userId: input.admin.userId, role: "DOMAIN_ADMIN", workspaceId: "" });
          await emitEvent(tx, "user", "created", created.domainId, { domain_id: created.domainId, user_id: input.admin.userId });
        }
        return created;
      });
      this.onCommit();
      return row;
    } catch (err) {
      if (isUniqueViolation(err)) throw conflict("Domain already exists", { domain_id: input.domainId });
      throw err;
    }
  }

  async get(domainId: string): Promise<DomainRow | undefined> {
    const [row] = await this.db.select().from(domains).where(eq(domains.domainId, domainId));
    return row;
  }

  list(query: QueryInput) {
    return listWith(this.db, domains, domainFields, query);
  }

  /**
   * Deletes the domain with everything in it. Every user's and live API key's tokens are revoked
   * through the usual events, so other services stop accepting them.
   */
  async delete(domainId: string): Promise<boolean> {
    const deleted = await this.db.transaction(async (tx) => {
      const gone = await tx.delete(domains).where(eq(domains.domainId, domainId)).returning({ domainId: domains.domainId });
      if (gone.length === 0) return false;
      const at = new Date().toISOString();
      const liveKeys = await tx
        .select({ apiKeyId: apiKeys.apiKeyId })
        .from(apiKeys)
        .where(and(eq(apiKeys.domainId, domainId), eq(apiKeys.state, "ENABLED"), isNull(apiKeys.revokedAt)));
      for (const key of liveKeys) await emitEvent(tx, "api_key", "revoked", domainId, { domain_id: domainId, api_key_id: key.apiKeyId, at });
      const removedUsers = await tx.delete(users).where(eq(users.domainId, domainId)).returning({ userId: users.userId });
      for (const user of removedUsers) await emitEvent(tx, "user", "deleted", domainId, { domain_id: domainId, user_id: user.userId, at });
      await tx.delete(roleBindings).where(eq(roleBindings.domainId, domainId));
      await tx.delete(apiKeys).where(eq(apiKeys.domainId, domainId));
      await tx.delete(refreshTokens).where(eq(refreshTokens.domainId, domainId));
      await tx.delete(secrets).where(eq(secrets.domainId, domainId));
      await tx.delete(serviceAccounts).where(eq(serviceAccounts.domainId, domainId));
      await tx.delete(projects).where(eq(projects.domainId, domainId));
      await tx.delete(workspaces).where(eq(workspaces.domainId, domainId));
      await emitEvent(tx, "domain", "deleted", domainId, { domain_id: domainId, at });
      return true;
    });
    if (deleted) this.onCommit();
    return deleted;
  }
}
