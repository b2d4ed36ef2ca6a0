import { randomUUID } from "node:crypto";
import type { JsonObject } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import { ErrorCode, invalidParameter, notFound, permissionDenied, PlatformError } from "@cloudforet/errors";
import { Channel_ChannelType, ChannelService } from "@cloudforet/proto/cloudforet/notification/v1/channel_pb";
import { Delivery_Status } from "@cloudforet/proto/cloudforet/notification/v1/delivery_pb";
import { callerOf, type Caller } from "@cloudforet/runtime";
import { channels, type ChannelRow, type ChannelType } from "../db/schema";
import { deliver } from "../delivery/deliver";
import { DeliveryFailure, truncateError } from "../delivery/delivery-failure";
import { requiredId, requiredText, validateTags } from "../field-rules";
import { canWrite, readableBy, workspaceForWrite } from "../workspace-scope";
import type { ChannelCredentials } from "./channel-credentials";
import { validateOptions } from "./channel-settings";
import { ChannelRepository } from "./repository";

const channelTypes: Record<number, ChannelType> = {
  [Channel_ChannelType.WEBHOOK]: "WEBHOOK",
  [Channel_ChannelType.SLACK]: "SLACK",
  [Channel_ChannelType.EMAIL]: "EMAIL",
};

/** The wire shape of a channel (Create/Get responses and List results share it). */
function toMessage(row: ChannelRow) {
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
function fromListRow(row: Record<string, unknown>) {
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

/** Deleting or testing a channel needs write access to its workspace (domain-wide channels: admins). */
function requireWrite(caller: Caller, row: ChannelRow): void {
  if (!canWrite(caller, row.workspaceId)) {
    throw permissionDenied(row.workspaceId ? "Write access to the channel's workspace denied" : "Only a domain admin may change a domain-wide channel", {
      channel_id: row.channelId,
      workspace_id: row.workspaceId,
    });
  }
}

const authorizationOf = (ctx: HandlerContext) => ctx.requestHeader.get("authorization");

export interface ChannelHandlerDeps {
  repo: ChannelRepository;
  credentials: ChannelCredentials;
  /** Deadline of a test attempt. */
  deliveryTimeoutMs: number;
}

export function channelHandlers({ repo, credentials, deliveryTimeoutMs }: ChannelHandlerDeps): ServiceImpl<typeof ChannelService> {
  const load = async (ctx: HandlerContext, channelId: string) => {
    const caller = callerOf(ctx);
    const id = requiredId(channelId, "channel_id");
    const row = await repo.get(readableBy(caller, channels.domainId, channels.workspaceId), id);
    if (!row) throw notFound("Channel not found", { channel_id: id });
    return { caller, row };
  };

  return {
    async create(req, ctx) {
      const caller = callerOf(ctx);
      const name = requiredText(req.name, "name", 128);
      const channelType = channelTypes[req.channelType];
      if (!channelType) throw invalidParameter("channel_type must be WEBHOOK, SLACK or EMAIL", { parameter: "channel_type", value: String(req.channelType) });
      const workspaceId = workspaceForWrite(caller, req.workspaceId);
      const tags = validateTags(req.tags);
      const secretId = req.secretId ? requiredId(req.secretId, "secret_id") : "";
      const options = validateOptions(channelType, req.options ?? {}, secretId !== "");
      const channelId = ChannelRepository.newId();
      let sealed: string | null = null;
      if (secretId) {
        const data = await credentials.read(channelType, secretId, authorizationOf(ctx) ?? "");
        sealed = credentials.seal(data, channelId);
      }
      const row = await repo.create(channelId, { domainId: caller.domainId, workspaceId, name, channelType, options, secretId, tags }, sealed);
      return toMessage(row);
    },

    async get(req, ctx) {
      return toMessage((await load(ctx, req.channelId)).row);
    },

    async list(req, ctx) {
      const caller = callerOf(ctx);
      const { results, total_count } = await repo.list(readableBy(caller, channels.domainId, channels.workspaceId), req.query ?? {});
      return { results: results.map(fromListRow), totalCount: total_count };
    },

    async delete(req, ctx) {
      const { caller, row } = await load(ctx, req.channelId);
      requireWrite(caller, row);
      if (!(await repo.delete(row))) throw notFound("Channel not found", { channel_id: row.channelId });
      return {};
    },

    async test(req, ctx) {
      const { caller, row } = await load(ctx, req.channelId);
      requireWrite(caller, row); // it sends a message
      const title = req.title ? requiredText(req.title, "title", 255) : "CloudForet test notification";
      const message = req.message ? requiredText(req.message, "message", 10_000) : `This is a test of the ${row.channelType.toLowerCase()} channel "${row.name}".`;
      if (req.recipients.length > 100) throw invalidParameter("at most 100 recipients", { parameter: "recipients" });
      const started = Date.now();
      const outcome = async (): Promise<string> => {
        let current = row;
        try {
          current = await credentials.refresh(row, authorizationOf(ctx), { force: true });
        } catch (err) {
          // Identity down: the stored copy will do. Identity refusing the secret: that is the test's answer.
          if (!(err instanceof PlatformError) || err.code === ErrorCode.SERVICE_UNAVAILABLE) current = row;
          else return `credentials: ${err.message}`;
        }
        try {
          const testId = `test-${randomUUID()}`;
          await deliver(
            credentials.settingsOf(current),
            {
              notificationId: testId,
              title,
              message,
              severity: "INFO",
              notificationType: "USER",
              tags: { test: "true", channel_id: row.channelId },
              channels: [row.channelId],
              recipients: req.recipients,
              domainId: row.domainId,
              workspaceId: row.workspaceId,
              createdAt: new Date(started),
            },
            { timeoutMs: deliveryTimeoutMs, deliveryKey: testId },
          );
          return "";
        } catch (err) {
          return truncateError(err instanceof DeliveryFailure ? err.message : `delivery failed: ${(err as Error).message}`);
        }
      };
      const error = await outcome();
      return {
        channelId: row.channelId,
        status: error ? Delivery_Status.FAILED : Delivery_Status.SUCCEEDED,
        error,
        durationMs: Date.now() - started,
        at: timestampFromDate(new Date()),
      };
    },
  };
}
