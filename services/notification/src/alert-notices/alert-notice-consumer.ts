import { fromJson, type JsonObject } from "@bufbuild/protobuf";
import { monitoringSubjects, type EventSubscription } from "@cloudforet/events";
import { AlertNoticeEventSchema, type AlertNoticeEvent } from "@cloudforet/proto/cloudforet/monitoring/v1/alert_events_pb";
import type { Severity } from "../db/schema";
import { consumeNotices, type NoticeConsumerDeps } from "../notifications/notice-consumer";
import { MAX_MESSAGE, MAX_TITLE, type SendInput } from "../notifications/notifications";

export const ALERT_NOTICE_SUBJECT = monitoringSubjects.alertNotice;
export const ALERT_NOTICE_CONSUMER = "notification-alert-notice";

const severities = new Set<Severity>(["INFO", "WARNING", "ERROR", "CRITICAL"]);

/**
 * Reads an event's data as an AlertNoticeEvent; undefined (and the event is dropped) when it is not
 * one: no alert id, no title, no channel, a field of the wrong type.
 */
export function parseAlertNotice(data: unknown): AlertNoticeEvent | undefined {
  if (typeof data !== "object" || data === null || Array.isArray(data)) return undefined;
  let event: AlertNoticeEvent;
  try {
    event = fromJson(AlertNoticeEventSchema, data as JsonObject, { ignoreUnknownFields: true });
  } catch {
    return undefined;
  }
  if (!event.alertId || !event.title.trim() || event.channels.length === 0) return undefined;
  return event;
}

/** The notification of an alert notice: its title and message, the alert's severity and tags, its channels. */
export function alertNotification(event: AlertNoticeEvent): SendInput {
  const tags = Object.fromEntries(Object.entries(event.tags).slice(0, 50));
  return {
    title: event.title.slice(0, MAX_TITLE),
    message: (event.message || event.title).slice(0, MAX_MESSAGE),
    severity: severities.has(event.severity as Severity) ? (event.severity as Severity) : "WARNING",
    notificationType: "SYSTEM",
    tags: { ...tags, alert_id: event.alertId, alert_notice: event.kind, ...(event.step ? { escalation_step: String(event.step) } : {}) },
    channels: event.channels.slice(0, 100),
    recipients: [],
  };
}

/** Monitoring's alert notices (a rule fired or resolved, an escalation step came due). */
export function consumeAlertNotices(deps: NoticeConsumerDeps): Promise<EventSubscription> {
  return consumeNotices(deps, {
    durable: ALERT_NOTICE_CONSUMER,
    subject: ALERT_NOTICE_SUBJECT,
    parse: parseAlertNotice,
    domainOf: (event, notice) => event.domainId || notice.domainId,
    toSend: (notice) => ({ input: alertNotification(notice), workspaceId: notice.workspaceId }),
    logFields: (notice) => ({ alert_id: notice.alertId, kind: notice.kind }),
    malformed: "dropping an alert notice without an alert, title, channel or domain",
    queued: "alert notice queued for delivery",
  });
}
