import type { Database } from "@cloudforet/db";
import { AlertService } from "@cloudforet/proto/cloudforet/monitoring/v1/alert_pb";
import { AlertRuleService } from "@cloudforet/proto/cloudforet/monitoring/v1/alert_rule_pb";
import { EscalationPolicyService } from "@cloudforet/proto/cloudforet/monitoring/v1/escalation_policy_pb";
import { MaintenanceWindowService } from "@cloudforet/proto/cloudforet/monitoring/v1/maintenance_window_pb";
import { ConfigError, type Caller, type HttpHandler } from "@cloudforet/runtime";
import type { ConnectRouter } from "@connectrpc/connect";
import type { Logger } from "pino";
import { alertRuleHandlers } from "../alert-rules/handlers";
import { AlertRuleRepository } from "../alert-rules/repository";
import { RuleEvaluator } from "../alert-rules/rule-evaluator";
import { escalationPolicyHandlers } from "../escalation-policies/handlers";
import { EscalationPolicyRepository } from "../escalation-policies/repository";
import { maintenanceWindowHandlers } from "../maintenance-windows/handlers";
import { MaintenanceWindowRepository } from "../maintenance-windows/repository";
import { AlertNotifier } from "./alert-notifier";
import { AlertScheduler } from "./alert-scheduler";
import { alertWebhook } from "./alert-webhook";
import { alertHandlers } from "./handlers";
import { AlertRepository } from "./repository";
import { WebhookKeyRepository } from "./webhook-keys";

/** MONITORING_ALERTS_MAX_SLEEP_MS (default 30000): the alerting loop's longest sleep, a net under missed wake-ups. */
export function readAlertingConfig(env: NodeJS.ProcessEnv): { maxSleepMs: number } {
  const raw = env.MONITORING_ALERTS_MAX_SLEEP_MS;
  if (raw === undefined || raw === "") return { maxSleepMs: 30_000 };
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 10 || value > 3_600_000) throw new ConfigError([`MONITORING_ALERTS_MAX_SLEEP_MS must be an integer from 10 to 3600000, got "${raw}"`]);
  return { maxSleepMs: value };
}

export interface AlertingDeps {
  db: Database;
  logger: Logger;
  env: NodeJS.ProcessEnv;
  domain: string;
  maxRequestBytes: number;
  authenticate(authorization: string | null | undefined): Promise<Caller>;
  /** Publishes committed outbox rows now. */
  kickOutbox(): void;
}

/**
 * Alerting inside monitoring (SPEC §8a): the four services, the alert webhook route and the
 * background loop, wired once. service.ts registers what this returns.
 */
export function createAlerting(deps: AlertingDeps) {
  const config = readAlertingConfig(deps.env);
  const logger = deps.logger.child({ component: "alerting" });
  const rules = new AlertRuleRepository(deps.db);
  const alerts = new AlertRepository(deps.db);
  const policies = new EscalationPolicyRepository(deps.db);
  const windows = new MaintenanceWindowRepository(deps.db);
  const webhookKeys = new WebhookKeyRepository(deps.db);
  const scheduler = new AlertScheduler(deps.db, new RuleEvaluator(deps.db, logger), new AlertNotifier(deps.db, windows, logger), rules, alerts, deps.kickOutbox, logger, {
    maxSleepMs: config.maxSleepMs,
    retryMs: 1000,
  });
  const http: HttpHandler = alertWebhook({
    db: deps.db,
    webhookKeys,
    policies,
    authenticate: (authorization) => deps.authenticate(authorization),
    maxRequestBytes: deps.maxRequestBytes,
    domain: deps.domain,
    afterCommit: () => scheduler.wake(),
    logger,
  });
  return {
    services: [AlertRuleService, AlertService, EscalationPolicyService, MaintenanceWindowService],
    http,
    routes(router: ConnectRouter) {
      router.service(AlertRuleService, alertRuleHandlers(rules, policies, () => scheduler.wake()));
      router.service(AlertService, alertHandlers({ alerts, webhookKeys, policies, wake: () => scheduler.wake() }));
      router.service(EscalationPolicyService, escalationPolicyHandlers(policies));
      router.service(
        MaintenanceWindowService,
        maintenanceWindowHandlers(windows, {
          changed: async (domainId) => {
            await alerts.recheckSilenced(domainId);
            scheduler.wake();
          },
        }),
      );
    },
    start: () => scheduler.start(),
    stop: () => scheduler.stop(),
  };
}
