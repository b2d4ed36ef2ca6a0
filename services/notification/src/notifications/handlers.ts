import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { ServiceImpl } from "@connectrpc/connect";
import { invalidParameter, missingParameter, notFound } from "@cloudforet/errors";
import { Delivery_Status } from "@cloudforet/proto/cloudforet/notification/v1/delivery_pb";
import { Notification_NotificationType, Notification_Severity, NotificationService } from "@cloudforet/proto/cloudforet/notification/v1/notification_pb";
import { callerOf } from "@cloudforet/runtime";
import { notifications, type DeliveryRow, type NotificationRow, type NotificationType, type Severity } from "../db/schema";
import { requiredId } from "../field-rules";
import { readableBy, workspaceForWrite } from "../workspace-scope";
import type { NotificationSender } from "./notification-sender";
import type { NotificationRepository } from "./repository";
import { validateSend } from "./rules";

const MAX_MARK_READ = 1000;

function deliveryMessage(row: DeliveryRow) {
  return { channel: row.channel, status: Delivery_Status[row.status], attempt: row.attempt, error: row.error, at: timestampFromDate(row.at) };
}

/** The wire shape of a notification (Get and List results share it). */
function toMessage(row: NotificationRow, deliveries: DeliveryRow[]) {
  return {
    notificationId: row.notificationId,
    title: row.title,
    message: row.message,
    severity: Notification_Severity[row.severity],
    notificationType: Notification_NotificationType[row.notificationType],
    tags: row.tags,
    channels: row.channels,
    recipients: row.recipients,
    isRead: row.isRead,
    readAt: row.readAt ? timestampFromDate(row.readAt) : undefined,
    deliveries: deliveries.map(deliveryMessage),
    domainId: row.domainId,
    workspaceId: row.workspaceId,
    createdAt: timestampFromDate(row.createdAt),
    updatedAt: timestampFromDate(row.updatedAt),
  };
}

/** List rows come back as query-language projections keyed by field name (trimmed by `only`). */
function fromListRow(row: Record<string, unknown>, deliveries: DeliveryRow[] | undefined) {
  const at = (value: unknown) => (value instanceof Date ? timestampFromDate(value) : undefined);
  return {
    notificationId: row.notification_id as string | undefined,
    title: row.title as string | undefined,
    message: row.message as string | undefined,
    severity: typeof row.severity === "string" ? Notification_Severity[row.severity as Severity] : undefined,
    notificationType: typeof row.notification_type === "string" ? Notification_NotificationType[row.notification_type as NotificationType] : undefined,
    tags: row.tags as Record<string, string> | undefined,
    channels: row.channels as string[] | undefined,
    recipients: row.recipients as string[] | undefined,
    isRead: row.is_read as boolean | undefined,
    readAt: at(row.read_at),
    deliveries: (deliveries ?? []).map(deliveryMessage),
    domainId: row.domain_id as string | undefined,
    workspaceId: row.workspace_id as string | undefined,
    createdAt: at(row.created_at),
    updatedAt: at(row.updated_at),
  };
}

export function notificationHandlers(repo: NotificationRepository, sender: NotificationSender): ServiceImpl<typeof NotificationService> {
  return {
    async send(req, ctx) {
      const caller = callerOf(ctx);
      const input = validateSend(req);
      const workspaceId = workspaceForWrite(caller, req.workspaceId);
      const row = await sender.send(input, { domainId: caller.domainId, workspaceId, authorization: ctx.requestHeader.get("authorization") });
      return {
        notificationId: row.notificationId,
        title: row.title,
        severity: Notification_Severity[row.severity],
        createdAt: timestampFromDate(row.createdAt),
        isRead: row.isRead,
      };
    },

    async get(req, ctx) {
      const caller = callerOf(ctx);
      const id = requiredId(req.notificationId, "notification_id");
      const found = await repo.get(readableBy(caller, notifications.domainId, notifications.workspaceId), id);
      if (!found) throw notFound("Notification not found", { notification_id: id });
      return toMessage(found.row, found.deliveries);
    },

    async list(req, ctx) {
      const caller = callerOf(ctx);
      const { results, total_count } = await repo.list(readableBy(caller, notifications.domainId, notifications.workspaceId), req.query ?? {});
      const ids = results.flatMap((r) => (typeof r.notification_id === "string" ? [r.notification_id] : []));
      const deliveries = await repo.deliveriesOf(ids);
      return { results: results.map((r) => fromListRow(r, deliveries.get(r.notification_id as string))), totalCount: total_count };
    },

    async markRead(req, ctx) {
      const caller = callerOf(ctx);
      if (req.notificationIds.length === 0) throw missingParameter("notification_ids");
      if (req.notificationIds.length > MAX_MARK_READ) throw invalidParameter(`at most ${MAX_MARK_READ} notification_ids`, { parameter: "notification_ids" });
      const ids = [...new Set(req.notificationIds.map((id, i) => requiredId(id, `notification_ids[${i}]`)))];
      const { missing, updated } = await repo.markRead(readableBy(caller, notifications.domainId, notifications.workspaceId), ids);
      if (missing.length > 0) throw notFound("Notification not found", { notification_id: missing.slice(0, 20).join(",") });
      return { updatedCount: updated };
    },
  };
}
