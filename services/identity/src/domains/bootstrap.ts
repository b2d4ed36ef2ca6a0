import { randomBytes } from "node:crypto";
import { and, count, eq, sql } from "drizzle-orm";
import type { Logger } from "pino";
import type { Database } from "@cloudforet/db";
import { DEFAULT_DOMAIN_ID } from "../access/access";
import { hashPassword } from "../crypto/password-hash";
import { emitEvent } from "../db/emit-event";
import { domains, roleBindings, users } from "../db/schema";

export interface BootstrapOptions {
  adminUserId: string;
  /** Undefined: generate one and print it once (embedded mode only; config enforces that). */
  adminPassword?: string;
}

export interface BootstrapResult {
  createdDomain: boolean;
  createdAdmin: boolean;
}

/**
 * First start: `domain-default` and its administrator, so a newcomer can log in right after the
 * start command. Idempotent: later starts (and replicas starting together, serialized by an
 * advisory lock) find a DOMAIN_ADMIN and change nothing.
 */
export async function bootstrap(db: Database, options: BootstrapOptions, logger: Logger, onCommit: () => void): Promise<BootstrapResult> {
  const password = options.adminPassword ?? randomBytes(18).toString("base64url");
  const passwordHash = await hashPassword(password);
  const result = await db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(hashtext('cloudforet:identity:bootstrap'))`);
    const inserted = await tx
      .insert(domains)
      .values({ domainId: DEFAULT_DOMAIN_ID, name: "Default" })
      .onConflictDoNothing()
      .returning({ domainId: domains.domainId });
    if (inserted.length > 0) await emitEvent(tx, "domain", "created", DEFAULT_DOMAIN_ID, { domain_id: DEFAULT_DOMAIN_ID, name: "Default" });
    const [admins] = await tx
      .select({ n: count() })
      .from(roleBindings)
      .where(and(eq(roleBindings.domainId, DEFAULT_DOMAIN_ID), eq(roleBindings.role, "DOMAIN_ADMIN")));
    if (admins.n > 0) return { createdDomain: inserted.length > 0, createdAdmin: false };
    await tx
      .insert(users)
      .values({ domainId: DEFAULT_DOMAIN_ID, userId: options.adminUserId, name: "Administrator", passwordHash })
      .onConflictDoUpdate({ target: [users.domainId, users.userId], set: { passwordHash, state: "ENABLED", updatedAt: new Date() } });
    await tx.insert(roleBindings).values({ domainId: DEFAULT_DOMAIN_ID, userId: options.adminUserId, role: "DOMAIN_ADMIN", workspaceId: "" }).onConflictDoNothing();
    await emitEvent(tx, "user", "created", DEFAULT_DOMAIN_ID, { domain_id: DEFAULT_DOMAIN_ID, user_id: options.adminUserId });
    return { createdDomain: inserted.length > 0, createdAdmin: true };
  });
  onCommit();
  if (result.createdAdmin && options.adminPassword === undefined) {
    // The only time this password is ever shown: the message (not a field) so log redaction keeps it.
    logger.warn(
      `created the administrator of ${DEFAULT_DOMAIN_ID}: user "${options.adminUserId}", generated password: ${password} ` +
        "(shown once; set CLOUDFORET_ADMIN_PASSWORD to choose it, change it with UserService.SetPassword)",
    );
  } else if (result.createdAdmin) {
    logger.info({ domain_id: DEFAULT_DOMAIN_ID, user_id: options.adminUserId }, "created the administrator from CLOUDFORET_ADMIN_PASSWORD");
  }
  return result;
}
