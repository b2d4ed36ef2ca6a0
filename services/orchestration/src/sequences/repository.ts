import { and, desc, eq } from "drizzle-orm";
import type { Database } from "@cloudforet/db";
import { isUniqueViolation } from "@cloudforet/db";
import { conflict } from "@cloudforet/errors";
import type { Owner } from "../access/tenants";
import { sequences, type SequenceRow } from "../db/schema";

export type NewSequenceRow = typeof sequences.$inferInsert;

export class SequenceRepository {
  constructor(private readonly db: Database) {}

  /** ERROR_CONFLICT when the id or (tenant, namespace, name, version) is taken. */
  async insert(row: NewSequenceRow): Promise<SequenceRow> {
    try {
      const [created] = await this.db.insert(sequences).values(row).returning();
      return created;
    } catch (err) {
      if (isUniqueViolation(err)) {
        throw conflict(`sequence ${row.namespace}/${row.name} version ${row.version} or id ${row.id} already exists`, {
          id: row.id,
          name: row.name,
          version: row.version,
        });
      }
      throw err;
    }
  }

  async getById(id: string): Promise<SequenceRow | undefined> {
    const [row] = await this.db.select().from(sequences).where(eq(sequences.id, id));
    return row;
  }

  /** The given version, or the highest one. */
  async getByName({ domainId, tenantId }: Owner, namespace: string, name: string, version?: number): Promise<SequenceRow | undefined> {
    const where = and(eq(sequences.domainId, domainId), eq(sequences.tenantId, tenantId), eq(sequences.namespace, namespace), eq(sequences.name, name), version === undefined ? undefined : eq(sequences.version, version));
    const [row] = await this.db.select().from(sequences).where(where).orderBy(desc(sequences.version)).limit(1);
    return row;
  }
}
