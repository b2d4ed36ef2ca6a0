import type { OutboundPolicy } from "@cloudforet/outbound";
import type { ChannelSettings } from "../channels/channel-settings";
import { sendJson } from "./http-delivery";
import { emailMessage, slackPayload, webhookBody, type OutgoingNotification } from "./message-formats";
import { sendEmail } from "./smtp-delivery";

export interface DeliverOptions {
  /** Deadline of the attempt. */
  timeoutMs: number;
  /** Stable per (notification, channel): sent as Idempotency-Key so receivers can drop retried copies. */
  deliveryKey: string;
  /** What the attempt may connect to (CLOUDFORET_OUTBOUND_*). */
  outbound: OutboundPolicy;
}

/** Makes one attempt to hand a notification to a channel; throws DeliveryFailure when it does not take it. */
export async function deliver(settings: ChannelSettings, notification: OutgoingNotification, options: DeliverOptions): Promise<void> {
  switch (settings.type) {
    case "WEBHOOK":
      return sendJson(options.outbound, {
        url: settings.url,
        method: settings.method,
        headers: {
          "idempotency-key": options.deliveryKey,
          "x-cloudforet-notification-id": notification.notificationId,
          ...settings.headers,
        },
        body: webhookBody(notification),
        timeoutMs: options.timeoutMs,
      });
    case "SLACK":
      return sendJson(options.outbound, {
        url: settings.url,
        method: "POST",
        headers: {},
        body: slackPayload(notification, settings, notification.recipients),
        timeoutMs: options.timeoutMs,
      });
    case "EMAIL":
      return sendEmail(options.outbound, settings, emailMessage(notification, settings, notification.recipients), options.timeoutMs);
  }
}
