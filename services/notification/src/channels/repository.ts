import { randomUUID } from "node:crypto";
import type { JsonObject } from "@bufbuild/protobuf";
import { and, asc, eq, inArray, sql } from "drizzle-orm";
import type { Database } from "@cloudforet/db";
import { isUniqueViolation } from "@cloudforet/db";
import { conflict } from "@cloudforet/errors";
import { enqueueEvent, eventSubject } from "@cloudforet/events";
import { col, defineQueryFields, json, listWith, scopeCondition, type QueryInput, type TenantScope } from "@cloudforet/query";
import { channels, outbox, type ChannelRow, type ChannelType } from "../db/schema";

/** What List and its query language can see of a channel (never the sealed credentials). */
export const channelFields = defineQueryFields(
  {
    channel_id: col(channels.channelId),
    name: col(channels.name),
    channel_type: col(channels.channelType),
    options: json(channels.options),
    secret_id: col(channels.secretId),
    tags: json(channels.tags),
    domain_id: col(channels.domainId),
    workspace_id: col(channels.workspaceId),
    created_at: col(channels.createdAt),
    updated_at: col(channels.updatedAt),
  },
  { keywordFields: ["name", "channel_id"], defaultSort: [{ key: "name" }, { key: "channel_id" }] },
);

export interface NewChannel {
  domainId: string;
  workspaceId: string;
  name: string;
  channelType: ChannelType;
  options: JsonObject;
  secretId: string;
  tags: Record<string, string>;
}

/** What a scope may read: its workspaces' rows and the whole domain's (workspace_id ""). */
const readable = (scope: TenantScope) => scopeCondition(scope, channels, { domainWideRows: true });

export class ChannelRepository {
  constructor(
    private readonly db: Database,
    private readonly onCommit: () => void,
  ) {}

  /** A fresh channel id, so credentials can be sealed to it before the row exists. */
  static newId(): string {
    return `ch-${randomUUID()}`;
  }

  /** Inserts the channel and its `created` event; ERROR_CONFLICT when the workspace has that name. */
  async create(channelId: string, input: NewChannel, sealedCredentials: string | null): Promise<ChannelRow> {
    try {
      const row = await this.db.transaction(async (tx) => {
        const [created] = await tx
          .insert(channels)
          .values({ channelId, ...input, sealedCredentials, credentialsFetchedAt: sealedCredentials ? new Date() : null })
          .returning();
        await enqueueEvent(tx, outbox, {
          subject: eventSubject("notification", "channel", "created"),
          domainId: input.domainId,
          data: { channel_id: channelId, name: input.name, channel_type: input.channelType, workspace_id: input.workspaceId },
        });
        return created;
      });
      this.onCommit();
      return row;
    } catch (err) {
      if (isUniqueViolation(err)) throw conflict("The workspace already has a channel of that name", { name: input.name, workspace_id: input.workspaceId });
      throw err;
    }
  }

  async get(scope: TenantScope, channelId: string): Promise<ChannelRow | undefined> {
    const [row] = await this.db.select().from(channels).where(and(readable(scope), eq(channels.channelId, channelId)));
    return row;
  }

  list(scope: TenantScope, query: QueryInput) {
    return listWith(this.db, channels, channelFields, query, readable(scope));
  }

  /** Channels a notification of these workspaces may use ("" = domain-wide), oldest name first. */
  async inWorkspaces(domainId: string, workspaceIds: string[] | "all"): Promise<ChannelRow[]> {
    const where = workspaceIds === "all" ? eq(channels.domainId, domainId) : and(eq(channels.domainId, domainId), inArray(channels.workspaceId, workspaceIds));
    return this.db.select().from(channels).where(where).orderBy(asc(channels.name), asc(channels.channelId));
  }

  /** Deletes the channel and records the `deleted` event; its queued deliveries fail when next tried. */
  async delete(row: ChannelRow): Promise<boolean> {
    const deleted = await this.db.transaction(async (tx) => {
      const rows = await tx
        .delete(channels)
        .where(and(eq(channels.channelId, row.channelId), eq(channels.domainId, row.domainId)))
        .returning({ channelId: channels.channelId });
      if (rows.length === 0) return false;
      await enqueueEvent(tx, outbox, {
        subject: eventSubject("notification", "channel", "deleted"),
        domainId: row.domainId,
        data: { channel_id: row.channelId, name: row.name, workspace_id: row.workspaceId },
      });
      return true;
    });
    if (deleted) this.onCommit();
    return deleted;
  }

  /** Replaces the sealed copy of the channel's secret. */
  async storeCredentials(channelId: string, sealed: string): Promise<ChannelRow | undefined> {
    const [row] = await this.db
      .update(channels)
      .set({ sealedCredentials: sealed, credentialsFetchedAt: sql`now()` })
      .where(eq(channels.channelId, channelId))
      .returning();
    return row;
  }
}
