// Over 300 lines on purpose: all SQL of users and their role bindings (STYLE: one repository per entity).
import { and, count, eq, exists, inArray, isNull, ne, or, sql, type SQL } from "drizzle-orm";
import type { Database, DatabaseExecutor } from "@cloudforet/db";
import { isUniqueViolation } from "@cloudforet/db";
import { conflict, illegalTransition } from "@cloudforet/errors";
import { col, defineQueryFields, json, listWith, type QueryInput } from "@cloudforet/query";
import { emitEvent } from "../db/emit-event";
import {
  apiKeys,
  refreshTokens,
  roleBindings,
  users,
  type EntityState,
  type RoleBindingRow,
  type RoleName,
  type UserRow,
} from "../db/schema";
import { emitRolesChanged } from "./roles-changed";

export const userFields = defineQueryFields(
  {
    user_id: col(users.userId),
    name: col(users.name),
    email: col(users.email),
    state: col(users.state),
    tags: json(users.tags),
    domain_id: col(users.domainId),
    created_at: col(users.createdAt),
    updated_at: col(users.updatedAt),
    last_login_at: col(users.lastLoginAt),
  },
  { keywordFields: ["user_id", "name", "email"], defaultSort: { key: "user_id" } },
);

export interface Binding {
  role: RoleName;
  /** "" for DOMAIN_ADMIN. */
  workspaceId: string;
}

export interface UserWithBindings {
  user: UserRow;
  bindings: RoleBindingRow[];
}

export interface NewUser {
  domainId: string;
  userId: string;
  passwordHash: string | null;
  name: string;
  email: string;
  tags: Record<string, string>;
  bindings: Binding[];
}

export interface UserPatch {
  name?: string;
  email?: string;
  state?: EntityState;
  tags: (current: Record<string, string>) => Record<string, string>;
}

const byId = (domainId: string, userId: string) => and(eq(users.domainId, domainId), eq(users.userId, userId));

/**
 * Serializes the changes that could remove a domain's last DOMAIN_ADMIN (delete, disable, unbind),
 * so two admins removing each other at once cannot both succeed.
 */
async function lockAdmins(tx: DatabaseExecutor, domainId: string): Promise<void> {
  await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${`cloudforet:identity:admins:${domainId}`}))`);
}

/** Enabled DOMAIN_ADMINs of the domain other than `userId`. */
async function otherEnabledAdmins(tx: DatabaseExecutor, domainId: string, userId: string): Promise<number> {
  const [row] = await tx
    .select({ n: count() })
    .from(roleBindings)
    .innerJoin(users, and(eq(users.domainId, roleBindings.domainId), eq(users.userId, roleBindings.userId)))
    .where(and(eq(roleBindings.domainId, domainId), eq(roleBindings.role, "DOMAIN_ADMIN"), ne(roleBindings.userId, userId), eq(users.state, "ENABLED")));
  return row.n;
}

async function isAdmin(tx: DatabaseExecutor, domainId: string, userId: string): Promise<boolean> {
  const [row] = await tx
    .select({ n: count() })
    .from(roleBindings)
    .where(and(eq(roleBindings.domainId, domainId), eq(roleBindings.userId, userId), eq(roleBindings.role, "DOMAIN_ADMIN")));
  return row.n > 0;
}

/** Marks every outstanding refresh token of the user revoked. */
async function revokeRefreshTokens(tx: DatabaseExecutor, domainId: string, userId: string, at: Date): Promise<void> {
  await tx
    .update(refreshTokens)
    .set({ revokedAt: at })
    .where(and(eq(refreshTokens.domainId, domainId), eq(refreshTokens.userId, userId), isNull(refreshTokens.revokedAt)));
}

export class UserRepository {
  constructor(
    private readonly db: Database,
    private readonly onCommit: () => void,
  ) {}

  async create(input: NewUser): Promise<UserWithBindings> {
    try {
      const result = await this.db.transaction(async (tx) => {
        const [user] = await tx
          .insert(users)
          .values({ domainId: input.domainId, userId: input.userId, passwordHash: input.passwordHash, name: input.name, email: input.email, tags: input.tags })
          .returning();
        const bindings = input.bindings.length
          ? await tx
              .insert(roleBindings)
              .values(input.bindings.map((b) => ({ domainId: input.domainId, userId: input.userId, role: b.role, workspaceId: b.workspaceId })))
              .onConflictDoNothing()
              .returning()
          : [];
        await emitEvent(tx, "user", "created", input.domainId, { domain_id: input.domainId, user_id: input.userId });
        // A user re-created under a deleted one's id must not be judged by the old user's bindings.
        await emitRolesChanged(tx, input.domainId, input.userId);
        return { user, bindings };
      });
      this.onCommit();
      return result;
    } catch (err) {
      if (isUniqueViolation(err)) throw conflict("User already exists", { user_id: input.userId });
      throw err;
    }
  }

  async get(domainId: string, userId: string): Promise<UserWithBindings | undefined> {
    const [user] = await this.db.select().from(users).where(byId(domainId, userId));
    if (!user) return undefined;
    return { user, bindings: await this.bindingsOf(domainId, [userId]).then((m) => m.get(userId) ?? []) };
  }

  /** Role bindings of several users, by user id, in the same order as `listedBindings`. */
  async bindingsOf(domainId: string, userIds: string[]): Promise<Map<string, RoleBindingRow[]>> {
    const byUser = new Map<string, RoleBindingRow[]>();
    if (userIds.length === 0) return byUser;
    const rows = await this.db
      .select()
      .from(roleBindings)
      .where(and(eq(roleBindings.domainId, domainId), inArray(roleBindings.userId, userIds)))
      .orderBy(roleBindings.userId, roleBindings.role, roleBindings.workspaceId);
    for (const row of rows) byUser.set(row.userId, [...(byUser.get(row.userId) ?? []), row]);
    return byUser;
  }

  /**
   * Users of the domain. With `visible` (non-admin callers) only the caller itself and users bound
   * to one of those workspaces.
   */
  list(domainId: string, query: QueryInput, scope?: { self: string; visible: string[] }) {
    const where: SQL[] = [eq(users.domainId, domainId)];
    if (scope) {
      const bound = this.db
        .select({ one: sql`1` })
        .from(roleBindings)
        .where(and(eq(roleBindings.domainId, users.domainId), eq(roleBindings.userId, users.userId), inArray(roleBindings.workspaceId, scope.visible)));
      where.push(or(eq(users.userId, scope.self), exists(bound))!);
    }
    // The page's role bindings come in the same statement: one round trip per List.
    return listWith(this.db, users, userFields, query, and(...where), { attach: { [LISTED_BINDINGS]: bindingsAsJson } });
  }

  async update(domainId: string, userId: string, patch: UserPatch): Promise<UserWithBindings | undefined> {
    const user = await this.db.transaction(async (tx) => {
      if (patch.state === "DISABLED") await lockAdmins(tx, domainId);
      const [current] = await tx.select().from(users).where(byId(domainId, userId)).for("update");
      if (!current) return undefined;
      const now = new Date();
      const disabling = patch.state === "DISABLED" && current.state !== "DISABLED";
      const enabling = patch.state === "ENABLED" && current.state !== "ENABLED";
      if (disabling && (await isAdmin(tx, domainId, userId)) && (await otherEnabledAdmins(tx, domainId, userId)) === 0) {
        throw illegalTransition("Cannot disable the domain's last DOMAIN_ADMIN", { user_id: userId });
      }
      const [updated] = await tx
        .update(users)
        .set({
          name: patch.name ?? current.name,
          email: patch.email ?? current.email,
          state: patch.state ?? current.state,
          tags: patch.tags(current.tags),
          updatedAt: now,
          ...(disabling ? { tokensRevokedAt: now } : {}),
        })
        .where(byId(domainId, userId))
        .returning();
      await emitEvent(tx, "user", "updated", domainId, { domain_id: domainId, user_id: userId, state: updated.state });
      if (disabling) {
        await revokeRefreshTokens(tx, domainId, userId, now);
        await emitEvent(tx, "user", "disabled", domainId, { domain_id: domainId, user_id: userId, at: now.toISOString() });
      }
      if (enabling) await emitEvent(tx, "user", "enabled", domainId, { domain_id: domainId, user_id: userId, at: now.toISOString() });
      return updated;
    });
    if (!user) return undefined;
    this.onCommit();
    return { user, bindings: (await this.bindingsOf(domainId, [userId])).get(userId) ?? [] };
  }

  /**
   * Deletes the user with its role bindings, API keys and refresh tokens; other services learn it
   * from `user.deleted` (and `api_key.revoked` per live key). Refuses to remove the last admin.
   */
  async delete(domainId: string, userId: string): Promise<boolean> {
    const deleted = await this.db.transaction(async (tx) => {
      await lockAdmins(tx, domainId);
      const [current] = await tx.select({ userId: users.userId }).from(users).where(byId(domainId, userId)).for("update");
      if (!current) return false;
      if ((await isAdmin(tx, domainId, userId)) && (await otherEnabledAdmins(tx, domainId, userId)) === 0) {
        throw illegalTransition("Cannot delete the domain's last DOMAIN_ADMIN", { user_id: userId });
      }
      const at = new Date().toISOString();
      const keys = await tx
        .delete(apiKeys)
        .where(and(eq(apiKeys.domainId, domainId), eq(apiKeys.userId, userId)))
        .returning({ apiKeyId: apiKeys.apiKeyId, state: apiKeys.state });
      for (const key of keys) {
        if (key.state === "ENABLED") await emitEvent(tx, "api_key", "revoked", domainId, { domain_id: domainId, api_key_id: key.apiKeyId, at });
      }
      await tx.delete(refreshTokens).where(and(eq(refreshTokens.domainId, domainId), eq(refreshTokens.userId, userId)));
      await tx.delete(users).where(byId(domainId, userId)); // role bindings cascade
      await emitEvent(tx, "user", "deleted", domainId, { domain_id: domainId, user_id: userId, at });
      return true;
    });
    if (deleted) this.onCommit();
    return deleted;
  }

  /** Sets the password hash, ends every earlier token and refresh token of the user. */
  async setPassword(domainId: string, userId: string, passwordHash: string): Promise<UserWithBindings | undefined> {
    const user = await this.db.transaction(async (tx) => {
      const now = new Date();
      const [updated] = await tx
        .update(users)
        .set({ passwordHash, tokensRevokedAt: now, updatedAt: now })
        .where(byId(domainId, userId))
        .returning();
      if (!updated) return undefined;
      await revokeRefreshTokens(tx, domainId, userId, now);
      await emitEvent(tx, "user", "password_changed", domainId, { domain_id: domainId, user_id: userId, at: now.toISOString() });
      return updated;
    });
    if (!user) return undefined;
    this.onCommit();
    return { user, bindings: (await this.bindingsOf(domainId, [userId])).get(userId) ?? [] };
  }

  /** Adds a binding; an identical one is not duplicated. Undefined when the user does not exist. */
  async addBinding(domainId: string, userId: string, binding: Binding): Promise<UserWithBindings | undefined> {
    const added = await this.db.transaction(async (tx) => {
      const [current] = await tx.select({ userId: users.userId }).from(users).where(byId(domainId, userId)).for("update");
      if (!current) return undefined;
      const inserted = await tx
        .insert(roleBindings)
        .values({ domainId, userId, role: binding.role, workspaceId: binding.workspaceId })
        .onConflictDoNothing()
        .returning();
      if (inserted.length > 0) {
        await tx.update(users).set({ updatedAt: new Date() }).where(byId(domainId, userId));
        await emitEvent(tx, "user", "role_binding_added", domainId, { domain_id: domainId, user_id: userId, role: binding.role, workspace_id: binding.workspaceId });
        await emitRolesChanged(tx, domainId, userId);
      }
      return inserted.length > 0;
    });
    if (added === undefined) return undefined;
    if (added) this.onCommit();
    return this.get(domainId, userId);
  }

  /** Removes the binding; "missing" when the user has no such binding. Refuses the last admin binding. */
  async removeBinding(domainId: string, userId: string, binding: Binding): Promise<"removed" | "missing"> {
    const result = await this.db.transaction(async (tx) => {
      if (binding.role === "DOMAIN_ADMIN") await lockAdmins(tx, domainId);
      // Serializes the user's binding changes (addBinding locks the same row), so roles_changed
      // events leave in the order their bindings were committed.
      await tx.select({ userId: users.userId }).from(users).where(byId(domainId, userId)).for("update");
      if (binding.role === "DOMAIN_ADMIN") {
        const [user] = await tx.select({ state: users.state }).from(users).where(byId(domainId, userId));
        const hasBinding = user && (await isAdmin(tx, domainId, userId));
        if (hasBinding && user.state === "ENABLED" && (await otherEnabledAdmins(tx, domainId, userId)) === 0) {
          throw illegalTransition("Cannot remove the domain's last DOMAIN_ADMIN binding", { user_id: userId });
        }
      }
      const removed = await tx
        .delete(roleBindings)
        .where(
          and(
            eq(roleBindings.domainId, domainId),
            eq(roleBindings.userId, userId),
            eq(roleBindings.role, binding.role),
            eq(roleBindings.workspaceId, binding.workspaceId),
          ),
        )
        .returning();
      if (removed.length === 0) return "missing" as const;
      await tx.update(users).set({ updatedAt: new Date() }).where(byId(domainId, userId));
      await emitEvent(tx, "user", "role_binding_removed", domainId, { domain_id: domainId, user_id: userId, role: binding.role, workspace_id: binding.workspaceId });
      await emitRolesChanged(tx, domainId, userId);
      return "removed" as const;
    });
    if (result === "removed") this.onCommit();
    return result;
  }

  /** A successful login: remembered as last_login_at. */
  async recordLogin(domainId: string, userId: string, at: Date): Promise<void> {
    await this.db.update(users).set({ lastLoginAt: at }).where(byId(domainId, userId));
  }
}

/** Where `list` puts each listed user's role bindings (read them with `listedBindings`). */
const LISTED_BINDINGS = "#role_bindings";

/** A user's role bindings as one JSON array, in bindingsOf's order, for the List statement. */
const bindingsAsJson = sql`(
  SELECT coalesce(json_agg(json_build_object('role', ${roleBindings.role}, 'workspace_id', ${roleBindings.workspaceId}, 'created_at', ${roleBindings.createdAt})
    ORDER BY ${roleBindings.role}, ${roleBindings.workspaceId}), '[]'::json)
  FROM ${roleBindings}
  WHERE ${roleBindings.domainId} = ${users.domainId} AND ${roleBindings.userId} = ${users.userId})`;

/** The role bindings `list` read with a user's row (none when the List was trimmed by `only`). */
export function listedBindings(raw: Record<string, unknown>): RoleBindingRow[] {
  const listed = raw[LISTED_BINDINGS] as { role: RoleBindingRow["role"]; workspace_id: string; created_at: string }[] | undefined;
  const domainId = String(raw.domain_id ?? "");
  const userId = String(raw.user_id ?? "");
  // json_build_object writes timestamptz as ISO 8601 with microseconds, which Date parses.
  return (listed ?? []).map((b) => ({ domainId, userId, role: b.role, workspaceId: b.workspace_id, createdAt: new Date(b.created_at) }));
}
