import type { EmailSettings, SlackSettings } from "../channels/channel-settings";
import { isEmailAddress } from "../channels/channel-settings";

/** A notification as channels see it. */
export interface OutgoingNotification {
  notificationId: string;
  title: string;
  message: string;
  severity: string;
  notificationType: string;
  tags: Record<string, string>;
  channels: string[];
  recipients: string[];
  domainId: string;
  workspaceId: string;
  createdAt: Date;
}

/** The webhook body: the Notification as the API prints it (snake_case, enum names, RFC 3339). */
export function webhookBody(n: OutgoingNotification): Record<string, unknown> {
  return {
    notification_id: n.notificationId,
    title: n.title,
    message: n.message,
    severity: n.severity,
    notification_type: n.notificationType,
    tags: n.tags,
    channels: n.channels,
    recipients: n.recipients,
    is_read: false,
    domain_id: n.domainId,
    workspace_id: n.workspaceId,
    created_at: n.createdAt.toISOString(),
  };
}

/** Tags in key order (stored tags do not keep the order they were sent in). */
const sortedTags = (tags: Record<string, string>) => Object.entries(tags).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));

const severityEmoji: Record<string, string> = { INFO: ":information_source:", WARNING: ":warning:", ERROR: ":x:", CRITICAL: ":rotating_light:" };

/** Slack's mrkdwn treats these three characters as markup. */
const slackEscape = (text: string) => text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

/**
 * An incoming-webhook payload: `text` (the notification fallback), `blocks` for the layout, and the
 * channel (a "#" recipient overrides the channel's own) and username when set.
 */
export function slackPayload(n: OutgoingNotification, settings: SlackSettings, recipients: string[]): Record<string, unknown> {
  const slackChannel = recipients.find((r) => r.startsWith("#")) ?? settings.channel;
  const tagLine = sortedTags(n.tags)
    .map(([k, v]) => `${k}: ${v}`)
    .join(" · ");
  const blocks: Record<string, unknown>[] = [
    { type: "header", text: { type: "plain_text", text: n.title.slice(0, 150), emoji: true } },
    { type: "section", text: { type: "mrkdwn", text: slackEscape(n.message).slice(0, 3000) } },
    {
      type: "context",
      elements: [{ type: "mrkdwn", text: slackEscape(`${severityEmoji[n.severity] ?? ""} ${n.severity}${tagLine ? ` · ${tagLine}` : ""}`.trim()).slice(0, 3000) }],
    },
  ];
  return {
    text: `[${n.severity}] ${n.title}: ${n.message}`,
    blocks,
    ...(slackChannel ? { channel: slackChannel } : {}),
    ...(settings.username ? { username: settings.username } : {}),
  };
}

export interface EmailMessage {
  from: string;
  to: string[];
  subject: string;
  text: string;
  html: string;
}

const htmlEscape = (text: string) =>
  text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&#39;");

/** E-mail recipients of a Send: its addresses, else the channel's `to`. */
export function emailRecipients(settings: EmailSettings, recipients: string[]): string[] {
  const named = recipients.filter(isEmailAddress);
  return named.length > 0 ? named : settings.to;
}

/** Subject "[SEVERITY] title"; the body is the message, then the tags, as text and HTML. */
export function emailMessage(n: OutgoingNotification, settings: EmailSettings, recipients: string[]): EmailMessage {
  const tags = sortedTags(n.tags);
  const text = [n.message, "", ...tags.map(([k, v]) => `${k}: ${v}`), "", `Notification ${n.notificationId} (${n.severity})`].join("\n");
  const html = [
    `<h2>${htmlEscape(n.title)}</h2>`,
    `<p>${htmlEscape(n.message)}</p>`,
    tags.length ? `<table>${tags.map(([k, v]) => `<tr><th align="left">${htmlEscape(k)}</th><td>${htmlEscape(v)}</td></tr>`).join("")}</table>` : "",
    `<p><small>Notification ${htmlEscape(n.notificationId)} (${htmlEscape(n.severity)})</small></p>`,
  ].join("");
  return { from: settings.from, to: emailRecipients(settings, recipients), subject: `[${n.severity}] ${n.title}`, text, html };
}
