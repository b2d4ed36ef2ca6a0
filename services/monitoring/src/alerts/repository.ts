import { randomUUID } from "node:crypto";
import { and, asc, eq, inArray, isNotNull, lte, min, ne, sql } from "drizzle-orm";
import type { Database, DatabaseExecutor } from "@cloudforet/db";
import { notify } from "@cloudforet/db";
import { col, defineQueryFields, json, listWith, scopeCondition, type QueryInput, type TenantScope } from "@cloudforet/query";
import { alerts, type AlertComment, type AlertRow, type AlertSeverity, type AlertSource } from "../db/schema";

/** Postgres NOTIFY channel of alerting: a rule, alert or window changed, so every replica's scheduler re-plans. */
export const ALERTING_CHANNEL = "cloudforet_monitoring.alerting";
export const noticeAlertingChanged = (tx: DatabaseExecutor) => notify(tx, ALERTING_CHANNEL);

export const alertFields = defineQueryFields(
  {
    alert_id: col(alerts.alertId),
    fingerprint: col(alerts.fingerprint),
    title: col(alerts.title),
    description: col(alerts.description),
    state: col(alerts.state),
    severity: col(alerts.severity),
    source: col(alerts.source),
    labels: json(alerts.labels),
    annotations: json(alerts.annotations),
    alert_rule_id: col(alerts.alertRuleId),
    resource_id: col(alerts.resourceId),
    value: col(alerts.value, "number"),
    starts_at: col(alerts.startsAt),
    ends_at: col(alerts.endsAt),
    acknowledged_by: col(alerts.acknowledgedBy),
    acknowledged_at: col(alerts.acknowledgedAt),
    assignee: col(alerts.assignee),
    resolved_by: col(alerts.resolvedBy),
    comments: json(alerts.comments),
    silenced: col(alerts.silenced, "boolean"),
    escalation_policy_id: col(alerts.escalationPolicyId),
    escalation_step: col(alerts.escalationStep, "number"),
    domain_id: col(alerts.domainId),
    workspace_id: col(alerts.workspaceId),
    created_at: col(alerts.createdAt),
    updated_at: col(alerts.updatedAt),
  },
  { keywordFields: ["title", "alert_id", "resource_id"], defaultSort: [{ key: "created_at", desc: true }, { key: "alert_id" }] },
);

/** An alert as a rule or a webhook raises it. */
export interface RaisedAlert {
  domainId: string;
  workspaceId: string;
  fingerprint: string;
  title: string;
  description: string;
  severity: AlertSeverity;
  source: AlertSource;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  alertRuleId?: string;
  resourceId: string;
  value?: number | null;
  startsAt: Date;
  channels: string[];
  escalationPolicyId: string;
}

const readable = (scope: TenantScope) => scopeCondition(scope, alerts, { domainWideRows: true });
const open = ne(alerts.state, "RESOLVED");

export class AlertRepository {
  constructor(private readonly db: Database) {}

  /**
   * Raises an alert, or refreshes the open one of the same fingerprint (its annotations, value and
   * severity): one open alert per fingerprint, enforced by a unique index, so concurrent webhooks
   * and replicas cannot raise two. A new alert is due for notification at once.
   */
  static async raise(tx: DatabaseExecutor, alert: RaisedAlert): Promise<{ alertId: string; created: boolean }> {
    const [row] = await tx
      .insert(alerts)
      .values({ ...alert, alertId: `alert-${randomUUID()}`, state: "FIRING", nextNoticeAt: sql`now()` })
      .onConflictDoUpdate({
        target: [alerts.domainId, alerts.workspaceId, alerts.fingerprint],
        targetWhere: sql`${alerts.state} <> 'RESOLVED'`,
        set: { annotations: sql`excluded.annotations`, value: sql`excluded.value`, severity: sql`excluded.severity`, updatedAt: sql`now()` },
      })
      .returning({ alertId: alerts.alertId, created: sql<boolean>`(xmax = 0)` });
    return { alertId: row.alertId, created: Boolean(row.created) };
  }

  /** Resolves the open alert of a fingerprint (a rule's series or an Alertmanager "resolved"); its resolution is due for notification. */
  static async resolveFingerprint(tx: DatabaseExecutor, domainId: string, workspaceId: string, fingerprint: string, endsAt: Date, by: string): Promise<string | undefined> {
    const [row] = await tx
      .update(alerts)
      .set({ state: "RESOLVED", endsAt, resolvedBy: by, nextNoticeAt: sql`now()`, updatedAt: sql`now()` })
      .where(and(eq(alerts.domainId, domainId), eq(alerts.workspaceId, workspaceId), eq(alerts.fingerprint, fingerprint), open))
      .returning({ alertId: alerts.alertId });
    return row?.alertId;
  }

  async get(scope: TenantScope, alertId: string): Promise<AlertRow | undefined> {
    const [row] = await this.db.select().from(alerts).where(and(readable(scope), eq(alerts.alertId, alertId)));
    return row;
  }

  list(scope: TenantScope, query: QueryInput) {
    return listWith(this.db, alerts, alertFields, query, readable(scope));
  }

  /** FIRING → ACKNOWLEDGED; undefined when the alert is no longer FIRING. Stops escalation (the notifier skips it). */
  async acknowledge(alertId: string, by: string): Promise<AlertRow | undefined> {
    const [row] = await this.db
      .update(alerts)
      .set({
        state: "ACKNOWLEDGED",
        acknowledgedBy: by,
        acknowledgedAt: sql`now()`,
        // A firing notice not yet sent still goes out; later escalation steps do not.
        nextNoticeAt: sql`case when ${alerts.firingNotified} then null else ${alerts.nextNoticeAt} end`,
        updatedAt: sql`now()`,
      })
      .where(and(eq(alerts.alertId, alertId), eq(alerts.state, "FIRING")))
      .returning();
    return row;
  }

  async assign(alertId: string, assignee: string): Promise<AlertRow> {
    const [row] = await this.db.update(alerts).set({ assignee, updatedAt: sql`now()` }).where(eq(alerts.alertId, alertId)).returning();
    return row;
  }

  /** Resolves an open alert by hand; undefined when it was already resolved. */
  async resolve(alertId: string, by: string, note: AlertComment | undefined): Promise<AlertRow | undefined> {
    return this.db.transaction(async (tx) => {
      const [row] = await tx
        .update(alerts)
        .set({
          state: "RESOLVED",
          endsAt: sql`now()`,
          resolvedBy: by,
          nextNoticeAt: sql`now()`,
          updatedAt: sql`now()`,
          ...(note ? { comments: sql`${alerts.comments} || ${JSON.stringify([note])}::jsonb` } : {}),
        })
        .where(and(eq(alerts.alertId, alertId), open))
        .returning();
      if (row) await noticeAlertingChanged(tx);
      return row;
    });
  }

  /** Appends a comment; undefined when the alert already holds MAX_COMMENTS. */
  async comment(alertId: string, comment: AlertComment, maxComments: number): Promise<AlertRow | undefined> {
    const [row] = await this.db
      .update(alerts)
      .set({ comments: sql`${alerts.comments} || ${JSON.stringify([comment])}::jsonb`, updatedAt: sql`now()` })
      .where(and(eq(alerts.alertId, alertId), sql`jsonb_array_length(${alerts.comments}) < ${maxComments}`))
      .returning();
    return row;
  }

  /** Claims one alert whose notice is due (skipping those another replica holds), inside `tx`. */
  static async claimDueNotice(tx: DatabaseExecutor, now: Date): Promise<AlertRow | undefined> {
    const [row] = await tx
      .select()
      .from(alerts)
      .where(and(isNotNull(alerts.nextNoticeAt), lte(alerts.nextNoticeAt, now)))
      .orderBy(asc(alerts.nextNoticeAt))
      .limit(1)
      .for("update", { skipLocked: true });
    return row;
  }

  static async applyNotice(tx: DatabaseExecutor, alertId: string, update: Partial<AlertRow>): Promise<void> {
    await tx.update(alerts).set({ ...update, updatedAt: sql`now()` }).where(eq(alerts.alertId, alertId));
  }

  /** When the next notice falls due (undefined: none is scheduled). */
  async nextNoticeAt(): Promise<Date | undefined> {
    const [row] = await this.db.select({ at: min(alerts.nextNoticeAt) }).from(alerts).where(isNotNull(alerts.nextNoticeAt));
    return row?.at ?? undefined;
  }

  /** A window changed: silenced alerts of the domain are looked at again now. */
  async recheckSilenced(domainId: string): Promise<void> {
    await this.db.transaction(async (tx) => {
      await tx
        .update(alerts)
        .set({ nextNoticeAt: sql`now()` })
        .where(and(eq(alerts.domainId, domainId), inArray(alerts.state, ["FIRING", "ACKNOWLEDGED"]), eq(alerts.silenced, true)));
      await noticeAlertingChanged(tx);
    });
  }
}
