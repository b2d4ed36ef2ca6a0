import type { JsonObject } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Channel_ChannelType } from "@cloudforet/proto/cloudforet/notification/v1/channel_pb";
import type { ChannelRow, ChannelType } from "../db/schema";

/** The wire shape of a channel (Create/Get responses and List results share it). */
export function toMessage(row: ChannelRow) {
  return {
    channelId: row.channelId,
    name: row.name,
    channelType: Channel_ChannelType[row.channelType],
    options: row.options,
    secretId: row.secretId,
    tags: row.tags,
    domainId: row.domainId,
    workspaceId: row.workspaceId,
    createdAt: timestampFromDate(row.createdAt),
    updatedAt: timestampFromDate(row.updatedAt),
  };
}

/** List rows come back as query-language projections keyed by field name. */
export function fromListRow(row: Record<string, unknown>) {
  const at = (value: unknown) => (value instanceof Date ? timestampFromDate(value) : undefined);
  return {
    channelId: row.channel_id as string | undefined,
    name: row.name as string | undefined,
    channelType: typeof row.channel_type === "string" ? Channel_ChannelType[row.channel_type as ChannelType] : undefined,
    options: row.options as JsonObject | undefined,
    secretId: row.secret_id as string | undefined,
    tags: row.tags as Record<string, string> | undefined,
    domainId: row.domain_id as string | undefined,
    workspaceId: row.workspace_id as string | undefined,
    createdAt: at(row.created_at),
    updatedAt: at(row.updated_at),
  };
}
