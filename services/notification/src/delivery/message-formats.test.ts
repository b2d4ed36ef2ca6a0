import { describe, expect, it } from "vitest";
import { emailMessage, slackPayload, webhookBody, type OutgoingNotification } from "./message-formats";

const notification: OutgoingNotification = {
  notificationId: "notif-1",
  title: "Disk <full> & more",
  message: "vm-01 at 91%",
  severity: "ERROR",
  notificationType: "USER",
  tags: { z: "last", a: "first" },
  channels: ["slack", "email"],
  recipients: ["ops@company.com", "#ops", "oncall@company.com", "#second"],
  domainId: "domain-default",
  workspaceId: "ws-1",
  createdAt: new Date("2024-01-15T10:45:00Z"),
};

describe("message formats", () => {
  it("webhook: the notification as the API prints it", () => {
    expect(webhookBody(notification)).toMatchObject({ notification_id: "notif-1", severity: "ERROR", created_at: "2024-01-15T10:45:00.000Z", is_read: false, recipients: notification.recipients });
  });

  it("slack: text and blocks, mrkdwn escaped, the first # recipient as channel", () => {
    const payload = slackPayload(notification, { type: "SLACK", url: "http://x", channel: "#default" }, notification.recipients);
    expect(payload.text).toBe("[ERROR] Disk <full> & more: vm-01 at 91%");
    expect(payload.channel).toBe("#ops");
    expect(JSON.stringify(payload.blocks)).toContain(":x: ERROR · a: first · z: last");
    expect(slackPayload({ ...notification, message: "<b>&" }, { type: "SLACK", url: "http://x" }, []).blocks).toContainEqual({ type: "section", text: { type: "mrkdwn", text: "&lt;b&gt;&amp;" } });
    expect(slackPayload(notification, { type: "SLACK", url: "http://x", channel: "#default" }, []).channel).toBe("#default");
  });

  it("email: the e-mail recipients, else the channel's; the title as subject; HTML escaped", () => {
    const settings = { type: "EMAIL" as const, host: "h", port: 25, secure: false, from: "cf@company.com", to: ["fallback@company.com"] };
    const mail = emailMessage(notification, settings, notification.recipients);
    expect(mail).toMatchObject({ from: "cf@company.com", to: ["ops@company.com", "oncall@company.com"], subject: "[ERROR] Disk <full> & more" });
    expect(mail.html).toContain("<h2>Disk &lt;full&gt; &amp; more</h2>");
    expect(mail.text.split("\n").slice(0, 4)).toEqual(["vm-01 at 91%", "", "a: first", "z: last"]);
    expect(emailMessage(notification, settings, ["#ops"]).to).toEqual(["fallback@company.com"]);
  });
});
