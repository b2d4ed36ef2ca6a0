import { randomUUID } from "node:crypto";
import { ErrorCode, permissionDenied, PlatformError } from "@cloudforet/errors";
import type { OutboundPolicy } from "@cloudforet/outbound";
import type { Caller } from "@cloudforet/runtime";
import { canWrite } from "../access/write-access";
import type { ChannelRow } from "../db/schema";
import { deliver } from "../delivery/deliver";
import { DeliveryFailure, truncateError } from "../delivery/delivery-failure";
import type { ChannelCredentials } from "./channel-credentials";

/** Deleting or testing a channel needs write access to its workspace (domain-wide channels: admins). */
export function requireChannelWrite(caller: Caller, row: ChannelRow): void {
  if (!canWrite(caller, row.workspaceId)) {
    throw permissionDenied(row.workspaceId ? "Write access to the channel's workspace denied" : "Only a domain admin may change a domain-wide channel", {
      channel_id: row.channelId,
      workspace_id: row.workspaceId,
    });
  }
}

export interface ChannelTest {
  title: string;
  message: string;
  recipients: string[];
  /** The caller's Authorization header, to re-read the channel's secret as the caller. */
  authorization: string | null;
  /** When the test began (the test message's creation time). */
  startedAt: number;
}

/**
 * Sends one test message through the channel with freshly read credentials; answers the failure as
 * text ("" when it was delivered). Identity being down is no failure: the stored copy will do.
 */
export async function testChannel(
  row: ChannelRow,
  test: ChannelTest,
  deps: { credentials: ChannelCredentials; deliveryTimeoutMs: number; outbound: OutboundPolicy },
): Promise<string> {
  let current = row;
  try {
    current = await deps.credentials.refresh(row, test.authorization, { force: true });
  } catch (err) {
    // Identity down: the stored copy will do. Identity refusing the secret: that is the test's answer.
    if (!(err instanceof PlatformError) || err.code === ErrorCode.SERVICE_UNAVAILABLE) current = row;
    else return `credentials: ${err.message}`;
  }
  try {
    const testId = `test-${randomUUID()}`;
    await deliver(
      deps.credentials.settingsOf(current),
      {
        notificationId: testId,
        title: test.title,
        message: test.message,
        severity: "INFO",
        notificationType: "USER",
        tags: { test: "true", channel_id: row.channelId },
        channels: [row.channelId],
        recipients: test.recipients,
        domainId: row.domainId,
        workspaceId: row.workspaceId,
        createdAt: new Date(test.startedAt),
      },
      { timeoutMs: deps.deliveryTimeoutMs, deliveryKey: testId, outbound: deps.outbound },
    );
    return "";
  } catch (err) {
    return truncateError(err instanceof DeliveryFailure ? err.message : `delivery failed: ${(err as Error).message}`);
  }
}
