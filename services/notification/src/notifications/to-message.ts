import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Delivery_Status } from "@cloudforet/proto/cloudforet/notification/v1/delivery_pb";
import { Notification_NotificationType, Notification_Severity } from "@cloudforet/proto/cloudforet/notification/v1/notification_pb";
import type { DeliveryRow, NotificationRow, NotificationType, Severity } from "../db/schema";

/** One delivery attempt (or the pending next one) as the wire shows it. */
export function deliveryMessage(row: DeliveryRow) {
  return { channel: row.channel, status: Delivery_Status[row.status], attempt: row.attempt, error: row.error, at: timestampFromDate(row.at) };
}

/** The wire shape of a notification (Get and List results share it). */
export function toMessage(row: NotificationRow, deliveries: DeliveryRow[]) {
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
export function fromListRow(row: Record<string, unknown>, deliveries: DeliveryRow[] | undefined) {
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

/** Send's answer: the stored notification's id, title, severity and state. */
export function sentMessage(row: NotificationRow) {
  return {
    notificationId: row.notificationId,
    title: row.title,
    severity: Notification_Severity[row.severity],
    createdAt: timestampFromDate(row.createdAt),
    isRead: row.isRead,
  };
}
