import { randomUUID } from "node:crypto";
import type { JsonObject } from "@bufbuild/protobuf";
import { and, eq, inArray, or } from "drizzle-orm";
import type { Database } from "@cloudforet/db";
import { isUniqueViolation } from "@cloudforet/db";
import { conflict } from "@cloudforet/errors";
import { enqueueEvent, eventSubject } from "@cloudforet/events";
import { col, defineQueryFields, json, listWith, type QueryInput } from "@cloudforet/query";
import { cloudServiceTypes, outbox, type CloudServiceTypeRow } from "../db/schema";
import { builtinTypes } from "./cloud-service-types";

/** What List and its query language can see of a type. */
export const cloudServiceTypeFields = defineQueryFields(
  {
    cloud_service_type_id: col(cloudServiceTypes.cloudServiceTypeId),
    key: col(cloudServiceTypes.key),
    name: col(cloudServiceTypes.name),
    group: col(cloudServiceTypes.group),
    provider: col(cloudServiceTypes.provider),
    is_builtin: col(cloudServiceTypes.isBuiltin),
    metadata: json(cloudServiceTypes.metadata),
    tags: json(cloudServiceTypes.tags),
    domain_id: col(cloudServiceTypes.domainId),
    created_at: col(cloudServiceTypes.createdAt),
    updated_at: col(cloudServiceTypes.updatedAt),
  },
  { keywordFields: ["key", "provider"], defaultSort: [{ key: "key" }, { key: "provider" }] },
);

/** Which (type key, provider) pairs a domain's resources may use. */
export interface TypeCatalog {
  /** True when `key` is a type of `provider` or a provider-neutral type. */
  allows(key: string, provider: string): boolean;
}

export interface NewCloudServiceType {
  domainId: string;
  key: string;
  group: string;
  name: string;
  provider: string;
  metadata: JsonObject;
  tags: Record<string, string>;
}

/** Types visible to a domain: its own and the built-ins. */
const visibleTo = (domainId: string) => inArray(cloudServiceTypes.domainId, [domainId, ""]);

export class CloudServiceTypeRepository {
  constructor(
    private readonly db: Database,
    private readonly onCommit: () => void,
  ) {}

  /** Makes sure the built-in types exist (idempotent; safe when replicas start together). */
  async ensureBuiltins(): Promise<void> {
    await this.db
      .insert(cloudServiceTypes)
      .values(
        builtinTypes.map((t) => ({
          cloudServiceTypeId: `cst-builtin-${t.group}-${t.name}`.toLowerCase(),
          domainId: "",
          key: `${t.group}.${t.name}`,
          group: t.group,
          name: t.name,
          provider: "",
          isBuiltin: true,
        })),
      )
      .onConflictDoNothing();
  }

  /** Inserts the type and its `created` event in one transaction. */
  async create(input: NewCloudServiceType): Promise<CloudServiceTypeRow> {
    const clash = await this.findByKey(input.domainId, input.key, input.provider, { exact: true });
    if (clash) throw conflict("Cloud service type already exists", { key: input.key, provider: input.provider });
    try {
      const row = await this.db.transaction(async (tx) => {
        const [created] = await tx
          .insert(cloudServiceTypes)
          .values({ cloudServiceTypeId: `cst-${randomUUID()}`, ...input })
          .returning();
        await enqueueEvent(tx, outbox, {
          subject: eventSubject("cloud_service", "cloud_service_type", "created"),
          domainId: input.domainId,
          data: { cloud_service_type_id: created.cloudServiceTypeId, key: created.key, provider: created.provider },
        });
        return created;
      });
      this.onCommit();
      return row;
    } catch (err) {
      if (isUniqueViolation(err)) throw conflict("Cloud service type already exists", { key: input.key, provider: input.provider });
      throw err;
    }
  }

  /** The metadata of every type of every domain (to rebuild declared search key indexes at start). */
  async allMetadata(): Promise<JsonObject[]> {
    const rows = await this.db.select({ metadata: cloudServiceTypes.metadata }).from(cloudServiceTypes);
    return rows.map((row) => row.metadata);
  }

  async getById(domainId: string, id: string): Promise<CloudServiceTypeRow | undefined> {
    const [row] = await this.db
      .select()
      .from(cloudServiceTypes)
      .where(and(eq(cloudServiceTypes.cloudServiceTypeId, id), visibleTo(domainId)));
    return row;
  }

  /**
   * The type a key names for a provider: the provider's own type wins over a provider-neutral one.
   * With `exact`, only the type of exactly that provider.
   */
  async findByKey(domainId: string, key: string, provider: string, options: { exact?: boolean } = {}): Promise<CloudServiceTypeRow | undefined> {
    const providers = options.exact || !provider ? eq(cloudServiceTypes.provider, provider) : or(eq(cloudServiceTypes.provider, provider), eq(cloudServiceTypes.provider, ""));
    const rows = await this.db
      .select()
      .from(cloudServiceTypes)
      .where(and(eq(cloudServiceTypes.key, key), providers, visibleTo(domainId)));
    return rows.find((r) => r.provider === provider) ?? rows[0];
  }

  /**
   * The type keys a domain may use, each with the providers it is registered for ("" for a
   * provider-neutral type): one small query, for checking many resources at once.
   */
  async catalog(domainId: string): Promise<TypeCatalog> {
    const rows = await this.db
      .select({ key: cloudServiceTypes.key, provider: cloudServiceTypes.provider })
      .from(cloudServiceTypes)
      .where(visibleTo(domainId));
    const providers = new Map<string, Set<string>>();
    for (const row of rows) {
      const set = providers.get(row.key) ?? new Set<string>();
      set.add(row.provider);
      providers.set(row.key, set);
    }
    return {
      allows(key: string, provider: string) {
        const set = providers.get(key);
        return set !== undefined && (set.has("") || set.has(provider));
      },
    };
  }

  list(domainId: string, query: QueryInput) {
    return listWith(this.db, cloudServiceTypes, cloudServiceTypeFields, query, visibleTo(domainId));
  }

  /** Deletes the domain's own type and records the `deleted` event; built-ins are never deleted. */
  async delete(domainId: string, id: string): Promise<boolean> {
    const deleted = await this.db.transaction(async (tx) => {
      const rows = await tx
        .delete(cloudServiceTypes)
        .where(and(eq(cloudServiceTypes.cloudServiceTypeId, id), eq(cloudServiceTypes.domainId, domainId)))
        .returning({ key: cloudServiceTypes.key, provider: cloudServiceTypes.provider });
      if (rows.length === 0) return false;
      await enqueueEvent(tx, outbox, {
        subject: eventSubject("cloud_service", "cloud_service_type", "deleted"),
        domainId,
        data: { cloud_service_type_id: id, key: rows[0].key, provider: rows[0].provider },
      });
      return true;
    });
    if (deleted) this.onCommit();
    return deleted;
  }
}
