import { invalidParameter, missingParameter } from "@cloudforet/errors";
import { validateTags } from "@cloudforet/query";
import type { NotificationType, Severity } from "../db/schema";

export const MAX_TITLE = 255;
export const MAX_MESSAGE = 10_000;
const MAX_ENTRIES = 100;

const severities: Severity[] = ["INFO", "WARNING", "ERROR", "CRITICAL"];
const types: NotificationType[] = ["USER", "SYSTEM"];

export interface SendInput {
  title: string;
  message: string;
  severity: Severity;
  notificationType: NotificationType;
  tags: Record<string, string>;
  channels: string[];
  recipients: string[];
}

/**
 * Send's checks (contract: a missing title or message and a title over 255 characters are
 * ERROR_INVALID_PARAMETER naming the field). Enum numbers come from the generated enums, in the
 * order the contract declares them.
 */
export function validateSend(req: {
  title: string;
  message: string;
  severity: number;
  notificationType: number;
  tags: Record<string, string>;
  channels: string[];
  recipients: string[];
}): SendInput {
  if (!req.title.trim()) throw missingParameter("title");
  if (req.title.length > MAX_TITLE) throw invalidParameter(`title is longer than ${MAX_TITLE} characters`, { parameter: "title" });
  if (!req.message.trim()) throw missingParameter("message");
  if (req.message.length > MAX_MESSAGE) throw invalidParameter(`message is longer than ${MAX_MESSAGE} characters`, { parameter: "message" });
  const severity = severities[req.severity];
  if (!severity) throw invalidParameter("severity must be INFO, WARNING, ERROR or CRITICAL", { parameter: "severity", value: String(req.severity) });
  const notificationType = types[req.notificationType];
  if (!notificationType) throw invalidParameter("notification_type must be USER or SYSTEM", { parameter: "notification_type", value: String(req.notificationType) });
  return {
    title: req.title,
    message: req.message,
    severity,
    notificationType,
    tags: validateTags(req.tags),
    channels: entries(req.channels, "channels"),
    recipients: entries(req.recipients, "recipients"),
  };
}

function entries(list: string[], parameter: string): string[] {
  if (list.length > MAX_ENTRIES) throw invalidParameter(`at most ${MAX_ENTRIES} ${parameter}`, { parameter });
  list.forEach((entry, i) => {
    if (!entry.trim() || entry.length > 320) throw invalidParameter(`${parameter}[${i}] must be 1 to 320 characters`, { parameter: `${parameter}[${i}]` });
  });
  return list;
}
