import { and, eq } from "drizzle-orm";
import type { DatabaseExecutor } from "@cloudforet/db";
import { notFound } from "@cloudforet/errors";
import { ownerWhere, type OwnerScope } from "../access/tenants";
import { instances, type InstanceRow } from "../db/schema";
import { isUuid } from "../ids";

/**
 * One instance within the caller's scope (domain, and tenant when named): NOT_FOUND for an
 * unknown id, a malformed one or another domain's, so ids of others are never disclosed.
 */
export async function scopedInstance(db: DatabaseExecutor, id: string, scope: OwnerScope): Promise<InstanceRow> {
  const [row] = isUuid(id)
    ? await db
        .select()
        .from(instances)
        .where(and(eq(instances.id, id.toLowerCase()), ownerWhere(instances, scope)))
    : [];
  if (!row) throw notFound("instance not found", { id });
  return row;
}
