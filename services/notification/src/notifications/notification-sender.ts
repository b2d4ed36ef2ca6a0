import { randomUUID } from "node:crypto";
import type { Database, DatabaseExecutor } from "@cloudforet/db";
import type { Logger } from "pino";
import type { ChannelCredentials } from "../channels/channel-credentials";
import type { ChannelRepository } from "../channels/repository";
import type { ChannelRow, NotificationRow } from "../db/schema";
import type { QueuedDelivery } from "../delivery/delivery-queue";
import { endpointOf } from "../delivery/endpoint";
import { matchChannels } from "./channel-matching";
import { NotificationRepository, type NewNotification } from "./repository";
import type { SendInput } from "./notifications";

export interface SendOptions {
  domainId: string;
  workspaceId: string;
  /**
   * Channels the notification may use: a notification of a workspace uses that workspace's channels
   * and the domain-wide ones; "all" (platform notifications of no workspace) every channel of the domain.
   */
  channelScope?: "all";
  /** The caller's `Authorization`, to refresh stale channel credentials from identity on the way. */
  authorization?: string | null;
  /** Store inside this transaction (an idempotent consumer's); the caller commits and wakes delivery. */
  tx?: DatabaseExecutor;
}

/**
 * Turns a notification into stored state: the row, one queued delivery per matched channel and a
 * SKIPPED record per entry that matched none. Delivery itself happens later, in the worker.
 */
export class NotificationSender {
  constructor(
    private readonly db: Database,
    private readonly channels: ChannelRepository,
    private readonly credentials: ChannelCredentials,
    private readonly afterCommit: () => void,
    private readonly logger: Logger,
  ) {}

  async send(input: SendInput, options: SendOptions): Promise<NotificationRow> {
    const available = await this.channels.inWorkspaces(
      options.domainId,
      options.channelScope === "all" ? "all" : [...new Set([options.workspaceId, ""])],
    );
    const { matched, unmatched } = matchChannels(input.channels, available);
    const targets = await Promise.all(matched.map((channel) => this.queued(channel, options.authorization)));
    const row: NewNotification = {
      notificationId: `notif-${randomUUID()}`,
      domainId: options.domainId,
      workspaceId: options.workspaceId,
      ...input,
    };
    const skipped = unmatched.map((entry) => ({ channel: entry, error: `no channel matches "${entry}" (by id, name or type)` }));
    if (options.tx) return NotificationRepository.insert(options.tx, row, targets, skipped);
    const stored = await this.db.transaction((tx) => NotificationRepository.insert(tx, row, targets, skipped));
    this.afterCommit();
    return stored;
  }

  /** A matched channel's queue entry; its endpoint keys the breaker and the per-endpoint concurrency. */
  private async queued(channel: ChannelRow, authorization: string | null | undefined): Promise<QueuedDelivery> {
    const current = authorization ? await this.credentials.refresh(channel, authorization) : channel;
    try {
      return { channelId: channel.channelId, endpointKey: endpointOf(this.credentials.settingsOf(current)).key };
    } catch (err) {
      // The attempt will report why; until then the channel is its own endpoint.
      this.logger.warn({ channel_id: channel.channelId, err: (err as Error).message }, "channel settings unreadable at send");
      return { channelId: channel.channelId, endpointKey: `channel:${channel.channelId}` };
    }
  }
}
