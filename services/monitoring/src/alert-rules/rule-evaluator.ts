import { createHash } from "node:crypto";
import type { Database, DatabaseExecutor } from "@cloudforet/db";
import type { Logger } from "pino";
import type { AlertRuleRow, AlertRuleSeriesRow } from "../db/schema";
import { RESOURCE_LABEL } from "../alerts/alerts";
import { AlertRepository } from "../alerts/repository";
import { conditionHolds } from "./alert-rules";
import { AlertRuleRepository } from "./repository";
import { stepSeries } from "./series-transitions";
import { seriesKey, seriesValues } from "./series-values";

/** Rules evaluated per pass at most. */
const MAX_PER_PASS = 500;

/**
 * Evaluates due rules, each once across replicas: a rule is claimed FOR UPDATE SKIP LOCKED in a
 * transaction that also reads its series, stores their new states, raises or resolves their alerts
 * and schedules the next evaluation. The transaction commits all of it or nothing, so a crash
 * mid-evaluation loses no transition and a retry does not double one.
 */
export class RuleEvaluator {
  constructor(
    private readonly db: Database,
    private readonly logger: Logger,
  ) {}

  async runDue(now = () => Date.now()): Promise<number> {
    let evaluated = 0;
    while (evaluated < MAX_PER_PASS) {
      const done = await this.db.transaction(async (tx) => {
        const at = new Date(now());
        const rule = await AlertRuleRepository.claimDue(tx, at);
        if (!rule) return false;
        try {
          // A savepoint: a rule that fails (say, a statement timeout) is rescheduled, and blocks no other rule.
          await tx.transaction((savepoint) => this.evaluate(savepoint, rule, at));
        } catch (err) {
          this.logger.warn({ err, alert_rule_id: rule.alertRuleId }, "alert rule evaluation failed; retrying at its next interval");
        }
        await AlertRuleRepository.scheduleNext(tx, rule, at);
        return true;
      });
      if (!done) break;
      evaluated++;
    }
    return evaluated;
  }

  private async evaluate(tx: DatabaseExecutor, rule: AlertRuleRow, now: Date): Promise<void> {
    const values = await seriesValues(tx, rule, now);
    const stored = new Map((await AlertRuleRepository.seriesOf(tx, rule.alertRuleId)).map((s) => [s.seriesKey, s]));
    const seen = new Set<string>();
    for (const { labels, value } of values) {
      const key = seriesKey(labels);
      seen.add(key);
      await this.advance(tx, rule, key, labels, value, conditionHolds(rule.comparison, value, rule.threshold), stored.get(key), now);
    }
    // A series without samples in the window no longer holds: a firing one resolves, the rest are forgotten.
    for (const [key, series] of stored) {
      if (seen.has(key)) continue;
      if (series.state === "FIRING") await this.advance(tx, rule, key, series.labels, null, false, series, now);
      else await AlertRuleRepository.dropSeries(tx, rule.alertRuleId, key);
    }
  }

  private async advance(
    tx: DatabaseExecutor,
    rule: AlertRuleRow,
    key: string,
    labels: Record<string, string>,
    value: number | null,
    holds: boolean,
    previous: AlertRuleSeriesRow | undefined,
    now: Date,
  ): Promise<void> {
    const step = stepSeries(previous, holds, rule.forSeconds * 1000, now);
    const fingerprint = createHash("sha256").update(`${rule.alertRuleId}\n${key}`).digest("hex").slice(0, 32);
    let alertId = previous?.alertId ?? null;
    if (step.fire) {
      const alertLabels = { ...rule.labels, ...labels, alertname: rule.name, severity: rule.severity.toLowerCase() };
      const raised = await AlertRepository.raise(tx, {
        domainId: rule.domainId,
        workspaceId: rule.workspaceId,
        fingerprint,
        title: `${rule.name}: ${rule.metricName} ${rule.aggregation.toLowerCase()} ${comparisonText[rule.comparison]} ${rule.threshold}`,
        description: rule.description,
        severity: rule.severity,
        source: "RULE",
        labels: alertLabels,
        annotations: {},
        alertRuleId: rule.alertRuleId,
        resourceId: labels[RESOURCE_LABEL] ?? "",
        value,
        startsAt: now,
        channels: rule.channels,
        escalationPolicyId: rule.escalationPolicyId,
      });
      alertId = raised.alertId;
      this.logger.info({ alert_rule_id: rule.alertRuleId, alert_id: alertId, series: key, value }, "alert rule series firing");
    }
    if (step.resolve) {
      await AlertRepository.resolveFingerprint(tx, rule.domainId, rule.workspaceId, fingerprint, now, "");
      this.logger.info({ alert_rule_id: rule.alertRuleId, alert_id: alertId, series: key }, "alert rule series resolved");
    }
    if (step.state === "OK" && !previous) return; // nothing worth remembering
    await AlertRuleRepository.saveSeries(tx, {
      alertRuleId: rule.alertRuleId,
      seriesKey: key,
      labels,
      state: step.state,
      value,
      pendingSince: step.pendingSince,
      firingSince: step.firingSince,
      alertId: step.state === "OK" ? null : alertId,
      evaluatedAt: now,
    });
  }
}

const comparisonText: Record<AlertRuleRow["comparison"], string> = { GT: ">", GTE: ">=", LT: "<", LTE: "<=", EQ: "==", NE: "!=" };
