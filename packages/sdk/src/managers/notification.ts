import type { MessageInitShape } from "@bufbuild/protobuf";
import {
  ChannelSchema,
  ChannelService,
  type Channel,
  type ChannelServiceCreateRequestSchema,
  type ChannelServiceTestResponse,
} from "@cloudforet/proto/cloudforet/notification/v1/channel_pb";
import {
  NotificationSchema,
  NotificationService,
  type Notification,
  type NotificationServiceSendRequestSchema,
} from "@cloudforet/proto/cloudforet/notification/v1/notification_pb";
import { Handle } from "../handle";
import { asEntity, Pager, type ListQuery } from "../pager";
import type { RequestOptions, ServiceCaller } from "../rpc";

export class ChannelHandle extends Handle<Channel> {
  /** Sends a test message through the channel. */
  test(input: { title?: string; message?: string; recipients?: string[] } = {}, options?: RequestOptions): Promise<ChannelServiceTestResponse> {
    return (this.ops as Channels).test(this.id, input, options);
  }
}

/** Notification channels (e-mail, Slack, webhook, …). */
export class Channels {
  constructor(private readonly rpc: ServiceCaller<typeof ChannelService>) {}

  async create(input: MessageInitShape<typeof ChannelServiceCreateRequestSchema>, options?: RequestOptions): Promise<ChannelHandle> {
    return this.handle(asEntity(ChannelSchema, await this.rpc.call((c, o) => c.create(input, o), options)));
  }
  async get(channelId: string, options?: RequestOptions): Promise<ChannelHandle> {
    return this.handle(await this.fetch(channelId, options));
  }
  list(query?: ListQuery, options?: RequestOptions): Pager<ChannelHandle> {
    return new Pager(async (q, o) => {
      const r = await this.rpc.call((c, co) => c.list({ query: q }, co), o);
      return { items: r.results.map((x) => this.handle(x)), totalCount: r.totalCount };
    }, query, options);
  }
  async delete(channelId: string, options?: RequestOptions): Promise<void> {
    await this.remove(channelId, options);
  }
  test(channelId: string, input: { title?: string; message?: string; recipients?: string[] } = {}, options?: RequestOptions): Promise<ChannelServiceTestResponse> {
    return this.rpc.call((c, o) => c.test({ ...input, channelId }, o), options);
  }

  /** @internal */
  async fetch(channelId: string, options?: RequestOptions): Promise<Channel> {
    return asEntity(ChannelSchema, await this.rpc.call((c, o) => c.get({ channelId }, o), options));
  }
  /** @internal */
  async remove(channelId: string, options?: RequestOptions): Promise<void> {
    await this.rpc.call((c, o) => c.delete({ channelId }, o), options);
  }
  private handle(x: Channel): ChannelHandle {
    return new ChannelHandle(x.channelId, x, this);
  }
}

export class NotificationHandle extends Handle<Notification> {
  async markRead(options?: RequestOptions): Promise<this> {
    await (this.ops as Notifications).markRead([this.id], options);
    return this.refresh(options);
  }
}

/** Notifications: send one to channels and recipients, read them, mark them read. */
export class Notifications {
  constructor(private readonly rpc: ServiceCaller<typeof NotificationService>) {}

  async send(input: MessageInitShape<typeof NotificationServiceSendRequestSchema>, options?: RequestOptions): Promise<NotificationHandle> {
    return this.handle(asEntity(NotificationSchema, await this.rpc.call((c, o) => c.send(input, o), options)));
  }
  async get(notificationId: string, options?: RequestOptions): Promise<NotificationHandle> {
    return this.handle(await this.fetch(notificationId, options));
  }
  list(query?: ListQuery, options?: RequestOptions): Pager<NotificationHandle> {
    return new Pager(async (q, o) => {
      const r = await this.rpc.call((c, co) => c.list({ query: q }, co), o);
      return { items: r.results.map((x) => this.handle(x)), totalCount: r.totalCount };
    }, query, options);
  }
  /** Marks notifications read; returns how many changed. */
  async markRead(notificationIds: string[], options?: RequestOptions): Promise<number> {
    return (await this.rpc.call((c, o) => c.markRead({ notificationIds }, o), options)).updatedCount;
  }

  /** @internal */
  async fetch(notificationId: string, options?: RequestOptions): Promise<Notification> {
    return asEntity(NotificationSchema, await this.rpc.call((c, o) => c.get({ notificationId }, o), options));
  }
  private handle(x: Notification): NotificationHandle {
    return new NotificationHandle(x.notificationId, x, this);
  }
}
