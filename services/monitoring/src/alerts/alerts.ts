import { createHash } from "node:crypto";
import type { AlertRow, AlertSeverity, EscalationPolicyRow } from "../db/schema";
import { escalationStep } from "../escalation-policies/escalation-policies";

/** The label naming the cloud resource an alert concerns (rule series carry it; Alertmanager alerts may). */
export const RESOURCE_LABEL = "resource_id";
export const MAX_COMMENT = 2000;
export const MAX_COMMENTS = 200;

/** A stable fingerprint of a label set: sha256 of its sorted pairs (Alertmanager's idea, not its hash). */
export function fingerprintOf(labels: Record<string, string>): string {
  const sorted = Object.keys(labels)
    .sort()
    .map((k) => [k, labels[k]]);
  return createHash("sha256").update(JSON.stringify(sorted)).digest("hex").slice(0, 32);
}

/** Severity from a label such as Alertmanager's `severity: critical`; WARNING when absent or unknown. */
export function severityOf(value: string | undefined): AlertSeverity {
  switch ((value ?? "").toLowerCase()) {
    case "critical":
    case "page":
      return "CRITICAL";
    case "error":
    case "high":
      return "ERROR";
    case "info":
    case "informational":
    case "low":
    case "none":
      return "INFO";
    default:
      return "WARNING";
  }
}

/** What the notifier sends for an alert (or nothing), and how the alert row changes with it. */
export interface NoticeDecision {
  notice?: { kind: "FIRING" | "RESOLVED" | "ESCALATION"; channels: string[]; step: number };
  update: Partial<Pick<AlertRow, "firingNotified" | "resolvedNotified" | "silenced" | "escalationStep" | "nextNoticeAt">>;
}

type Policy = Pick<EscalationPolicyRow, "steps" | "repeatCount">;

/**
 * The notification an alert is due, decided once per claim of the row (the row is locked, and the
 * change commits with the outbox event, so a notice is sent once):
 * - a FIRING alert not yet notified: the rule's channels, or the policy's first step, unless a
 *   maintenance window silences it (then it is looked at again when the window ends);
 * - a FIRING alert with a policy: the next step once its wait is over, until acknowledged or resolved;
 * - a RESOLVED alert whose firing was notified: one resolution notice to everyone notified so far.
 */
export function decideNotice(alert: AlertRow, policy: Policy | undefined, silencedUntil: number | undefined, now: number): NoticeDecision {
  const open = alert.state !== "RESOLVED";
  if (!open) {
    if (alert.firingNotified && !alert.resolvedNotified) {
      return { notice: { kind: "RESOLVED", channels: notifiedChannels(alert, policy), step: alert.escalationStep }, update: { resolvedNotified: true, nextNoticeAt: null } };
    }
    return { update: { nextNoticeAt: null } };
  }
  if (silencedUntil !== undefined) return { update: { silenced: true, nextNoticeAt: new Date(silencedUntil) } };
  if (!alert.firingNotified) {
    if (!policy) return { notice: { kind: "FIRING", channels: alert.channels, step: 0 }, update: { firingNotified: true, silenced: false, nextNoticeAt: null } };
    const first = escalationStep(policy.steps, policy.repeatCount, 1)!;
    return {
      notice: { kind: "FIRING", channels: first.step.channels, step: 1 },
      update: { firingNotified: true, silenced: false, escalationStep: 1, nextNoticeAt: nextStepAt(policy, 2, alert.state === "FIRING", now) },
    };
  }
  if (!policy || alert.state !== "FIRING") return { update: { silenced: false, nextNoticeAt: null } };
  const n = alert.escalationStep + 1;
  const step = escalationStep(policy.steps, policy.repeatCount, n);
  if (!step) return { update: { silenced: false, nextNoticeAt: null } };
  return {
    notice: { kind: "ESCALATION", channels: step.step.channels, step: n },
    update: { silenced: false, escalationStep: n, nextNoticeAt: nextStepAt(policy, n + 1, true, now) },
  };
}

function nextStepAt(policy: Policy, n: number, escalating: boolean, now: number): Date | null {
  const next = escalating ? escalationStep(policy.steps, policy.repeatCount, n) : undefined;
  return next ? new Date(now + next.waitSeconds * 1000) : null;
}

/** Everyone told that the alert fired: the rule's channels, or the policy's steps reached so far. */
function notifiedChannels(alert: AlertRow, policy: Policy | undefined): string[] {
  if (!policy) return alert.channels;
  const reached = policy.steps.slice(0, Math.min(Math.max(alert.escalationStep, 1), policy.steps.length));
  return [...new Set(reached.flatMap((s) => s.channels))];
}
