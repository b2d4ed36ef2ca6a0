import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import { invalidParameter, notFound } from "@cloudforet/errors";
import { Channel_ChannelType, ChannelService } from "@cloudforet/proto/cloudforet/notification/v1/channel_pb";
import { Delivery_Status } from "@cloudforet/proto/cloudforet/notification/v1/delivery_pb";
import type { OutboundPolicy } from "@cloudforet/outbound";
import { tenantScope, validateTags } from "@cloudforet/query";
import { callerOf } from "@cloudforet/runtime";
import { workspaceForWrite } from "../access/write-access";
import type { ChannelType } from "../db/schema";
import { requiredId, requiredText } from "../fields/required-fields";
import type { ChannelCredentials } from "./channel-credentials";
import { validateOptions } from "./channel-settings";
import { requireChannelWrite, testChannel } from "./channels";
import { ChannelRepository } from "./repository";
import { fromListRow, toMessage } from "./to-message";

const channelTypes: Record<number, ChannelType> = {
  [Channel_ChannelType.WEBHOOK]: "WEBHOOK",
  [Channel_ChannelType.SLACK]: "SLACK",
  [Channel_ChannelType.EMAIL]: "EMAIL",
};

const authorizationOf = (ctx: HandlerContext) => ctx.requestHeader.get("authorization");

export interface ChannelHandlerDeps {
  repo: ChannelRepository;
  credentials: ChannelCredentials;
  /** Deadline of a test attempt. */
  deliveryTimeoutMs: number;
  /** What channels may point at and tests may connect to (CLOUDFORET_OUTBOUND_*). */
  outbound: OutboundPolicy;
}

export function channelHandlers({ repo, credentials, deliveryTimeoutMs, outbound }: ChannelHandlerDeps): ServiceImpl<typeof ChannelService> {
  const load = async (ctx: HandlerContext, channelId: string) => {
    const caller = callerOf(ctx);
    const id = requiredId(channelId, "channel_id");
    const row = await repo.get(tenantScope(caller), id);
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
      const options = validateOptions(channelType, req.options ?? {}, secretId !== "", outbound);
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
      const { results, total_count } = await repo.list(tenantScope(caller), req.query ?? {});
      return { results: results.map(fromListRow), totalCount: total_count };
    },

    async delete(req, ctx) {
      const { caller, row } = await load(ctx, req.channelId);
      requireChannelWrite(caller, row);
      if (!(await repo.delete(row))) throw notFound("Channel not found", { channel_id: row.channelId });
      return {};
    },

    async test(req, ctx) {
      const { caller, row } = await load(ctx, req.channelId);
      requireChannelWrite(caller, row); // it sends a message
      const title = req.title ? requiredText(req.title, "title", 255) : "CloudForet test notification";
      const message = req.message ? requiredText(req.message, "message", 10_000) : `This is a test of the ${row.channelType.toLowerCase()} channel "${row.name}".`;
      if (req.recipients.length > 100) throw invalidParameter("at most 100 recipients", { parameter: "recipients" });
      const started = Date.now();
      const error = await testChannel(
        row,
        { title, message, recipients: req.recipients, authorization: authorizationOf(ctx), startedAt: started },
        { credentials, deliveryTimeoutMs, outbound },
      );
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
