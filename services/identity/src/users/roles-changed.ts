import { and, eq } from "drizzle-orm";
import type { DatabaseExecutor } from "@cloudforet/db";
import { roleClaims } from "../auth/token-issuer";
import { emitEvent } from "../db/emit-event";
import { roleBindings } from "../db/schema";

/**
 * Records `cloudforet.identity.user.roles_changed` with the user's bindings as this transaction
 * leaves them (`roles` in the token claims' shape), so every service gives the user's earlier
 * tokens these bindings instead of the ones they were signed with. Call it after the change and
 * with the user's row locked, so two changes of one user publish their results in commit order.
 */
export async function emitRolesChanged(tx: DatabaseExecutor, domainId: string, userId: string): Promise<void> {
  const bindings = await tx
    .select()
    .from(roleBindings)
    .where(and(eq(roleBindings.domainId, domainId), eq(roleBindings.userId, userId)))
    .orderBy(roleBindings.role, roleBindings.workspaceId);
  const { roles } = roleClaims(bindings);
  await emitEvent(tx, "user", "roles_changed", domainId, { domain_id: domainId, user_id: userId, roles, at: new Date().toISOString() });
}
