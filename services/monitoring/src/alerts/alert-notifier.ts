import { create, toJson } from "@bufbuild/protobuf";
import { and, eq } from "drizzle-orm";
import type { Database, DatabaseExecutor } from "@cloudforet/db";
import { enqueueEvent, monitoringSubjects } from "@cloudforet/events";
import { AlertNoticeEventSchema } from "@cloudforet/proto/cloudforet/monitoring/v1/alert_events_pb";
import type { Logger } from "pino";
import { escalationPolicies, outbox, type AlertRow, type EscalationPolicyRow } from "../db/schema";
import { matchesLabels, occurrence } from "../maintenance-windows/maintenance-windows";
import type { MaintenanceWindowRepository } from "../maintenance-windows/repository";
import { decideNotice, type NoticeDecision } from "./alerts";
import { AlertRepository } from "./repository";

/** Alerts handled per pass at most, so one pass cannot hold the loop for long. */
const MAX_PER_PASS = 200;

/**
 * Sends what alerts are due: each due alert is claimed (FOR UPDATE SKIP LOCKED, so replicas share the
 * work and never both take one), its notice decided, and the decision stored with its outbox event in
 * one transaction. The notification service turns the event into a durable delivery (retries,
 * per-endpoint breakers), so a firing and its resolution each notify once.
 */
export class AlertNotifier {
  constructor(
    private readonly db: Database,
    private readonly windows: MaintenanceWindowRepository,
    private readonly logger: Logger,
  ) {}

  /** Handles every due notice; returns how many alerts it looked at. */
  async runDue(now = () => Date.now()): Promise<number> {
    let handled = 0;
    while (handled < MAX_PER_PASS) {
      const done = await this.db.transaction(async (tx) => {
        const alert = await AlertRepository.claimDueNotice(tx, new Date(now()));
        if (!alert) return false;
        await this.handle(tx, alert, now());
        return true;
      });
      if (!done) break;
      handled++;
    }
    return handled;
  }

  private async handle(tx: DatabaseExecutor, alert: AlertRow, now: number): Promise<void> {
    const policy = alert.escalationPolicyId ? await policyOf(tx, alert) : undefined;
    const decision = decideNotice(alert, policy, await this.silencedUntil(tx, alert, now), now);
    if (decision.notice && decision.notice.channels.length > 0) await this.enqueue(tx, alert, decision.notice);
    await AlertRepository.applyNotice(tx, alert.alertId, decision.update);
    if (decision.notice) {
      this.logger.info({ alert_id: alert.alertId, kind: decision.notice.kind, step: decision.notice.step, channels: decision.notice.channels.length }, "alert notice queued");
    } else if (decision.update.silenced) {
      this.logger.info({ alert_id: alert.alertId, until: decision.update.nextNoticeAt?.toISOString() }, "alert notice held back by a maintenance window");
    }
  }

  /** When the active maintenance window matching the alert ends, or undefined when none holds it. */
  private async silencedUntil(tx: DatabaseExecutor, alert: AlertRow, now: number): Promise<number | undefined> {
    let until: number | undefined;
    for (const window of await this.windows.applicable(tx, alert.domainId, alert.workspaceId)) {
      const at = occurrence(window, now);
      if (at.active && matchesLabels(window.matchers, alert.labels)) until = Math.max(until ?? 0, at.until);
    }
    return until;
  }

  private async enqueue(tx: DatabaseExecutor, alert: AlertRow, notice: NonNullable<NoticeDecision["notice"]>): Promise<void> {
    const prefix = notice.kind === "RESOLVED" ? "[RESOLVED]" : notice.kind === "ESCALATION" ? `[FIRING, step ${notice.step}]` : "[FIRING]";
    const value = alert.value === null ? "" : ` (value ${alert.value})`;
    const data = create(AlertNoticeEventSchema, {
      alertId: alert.alertId,
      kind: notice.kind,
      title: `${prefix} ${alert.title}`.slice(0, 255),
      message: `${alert.description || alert.title}${value}`.slice(0, 10_000),
      severity: notice.kind === "RESOLVED" ? "INFO" : alert.severity,
      channels: notice.channels,
      tags: {
        alert_id: alert.alertId,
        alert_state: notice.kind === "RESOLVED" ? "RESOLVED" : "FIRING",
        fingerprint: alert.fingerprint,
        ...(alert.alertRuleId ? { alert_rule_id: alert.alertRuleId } : {}),
        ...(alert.resourceId ? { resource_id: alert.resourceId } : {}),
      },
      domainId: alert.domainId,
      workspaceId: alert.workspaceId,
      step: notice.step,
    });
    await enqueueEvent(tx, outbox, {
      subject: monitoringSubjects.alertNotice,
      domainId: alert.domainId,
      data: toJson(AlertNoticeEventSchema, data, { useProtoFieldName: true, alwaysEmitImplicit: true }),
    });
  }
}

async function policyOf(tx: DatabaseExecutor, alert: AlertRow): Promise<EscalationPolicyRow | undefined> {
  const [row] = await tx
    .select()
    .from(escalationPolicies)
    .where(and(eq(escalationPolicies.domainId, alert.domainId), eq(escalationPolicies.escalationPolicyId, alert.escalationPolicyId)));
  return row;
}
