import type { MessageInitShape } from "@bufbuild/protobuf";
import {
  AlertService,
  type Alert,
  type AlertServiceCreateWebhookKeyRequestSchema,
  type AlertWebhookKey,
} from "@cloudforet/proto/cloudforet/monitoring/v1/alert_pb";
import { AlertRuleService, type AlertRule, type AlertRuleSeries, type AlertRuleServiceCreateRequestSchema, type AlertRuleServiceUpdateRequestSchema } from "@cloudforet/proto/cloudforet/monitoring/v1/alert_rule_pb";
import {
  EscalationPolicyService,
  type EscalationPolicy,
  type EscalationPolicyServiceCreateRequestSchema,
  type EscalationPolicyServiceUpdateRequestSchema,
} from "@cloudforet/proto/cloudforet/monitoring/v1/escalation_policy_pb";
import { MaintenanceWindowService, type MaintenanceWindow, type MaintenanceWindowServiceCreateRequestSchema } from "@cloudforet/proto/cloudforet/monitoring/v1/maintenance_window_pb";
import { Pager, type ListQuery } from "../pager";
import type { RequestOptions, ServiceCaller } from "../rpc";

/** Alert rules: metric conditions evaluated continuously by monitoring. */
export class AlertRules {
  constructor(private readonly rpc: ServiceCaller<typeof AlertRuleService>) {}

  async create(input: MessageInitShape<typeof AlertRuleServiceCreateRequestSchema>, options?: RequestOptions): Promise<AlertRule> {
    return (await this.rpc.call((c, o) => c.create(input, o), options)).alertRule!;
  }
  /** Replaces the rule's definition (every field); its series restart from OK. */
  async update(input: MessageInitShape<typeof AlertRuleServiceUpdateRequestSchema>, options?: RequestOptions): Promise<AlertRule> {
    return (await this.rpc.call((c, o) => c.update(input, o), options)).alertRule!;
  }
  async get(alertRuleId: string, options?: RequestOptions): Promise<AlertRule> {
    return (await this.rpc.call((c, o) => c.get({ alertRuleId }, o), options)).alertRule!;
  }
  list(query?: ListQuery, options?: RequestOptions): Pager<AlertRule> {
    return new Pager(async (q, o) => {
      const r = await this.rpc.call((c, co) => c.list({ query: q }, co), o);
      return { items: r.results, totalCount: r.totalCount };
    }, query, options);
  }
  /** The rule's series and their states (OK, PENDING with pending-since, FIRING, RESOLVED). */
  async series(alertRuleId: string, options?: RequestOptions): Promise<AlertRuleSeries[]> {
    return (await this.rpc.call((c, o) => c.listSeries({ alertRuleId }, o), options)).results;
  }
  async delete(alertRuleId: string, options?: RequestOptions): Promise<void> {
    await this.rpc.call((c, o) => c.delete({ alertRuleId }, o), options);
  }
}

/** Alerts raised by rules and webhooks: list, acknowledge, assign, resolve, comment. */
export class Alerts {
  constructor(private readonly rpc: ServiceCaller<typeof AlertService>) {}

  async get(alertId: string, options?: RequestOptions): Promise<Alert> {
    return (await this.rpc.call((c, o) => c.get({ alertId }, o), options)).alert!;
  }
  list(query?: ListQuery, options?: RequestOptions): Pager<Alert> {
    return new Pager(async (q, o) => {
      const r = await this.rpc.call((c, co) => c.list({ query: q }, co), o);
      return { items: r.results, totalCount: r.totalCount };
    }, query, options);
  }
  async acknowledge(alertId: string, options?: RequestOptions): Promise<Alert> {
    return (await this.rpc.call((c, o) => c.acknowledge({ alertId }, o), options)).alert!;
  }
  async assign(alertId: string, assignee: string, options?: RequestOptions): Promise<Alert> {
    return (await this.rpc.call((c, o) => c.assign({ alertId, assignee }, o), options)).alert!;
  }
  async resolve(alertId: string, note = "", options?: RequestOptions): Promise<Alert> {
    return (await this.rpc.call((c, o) => c.resolve({ alertId, note }, o), options)).alert!;
  }
  async comment(alertId: string, text: string, options?: RequestOptions): Promise<Alert> {
    return (await this.rpc.call((c, o) => c.comment({ alertId, text }, o), options)).alert!;
  }
  /** A key for `POST /api/v1/alerts/webhook`; `key` is shown this once. */
  async createWebhookKey(input: MessageInitShape<typeof AlertServiceCreateWebhookKeyRequestSchema>, options?: RequestOptions): Promise<AlertWebhookKey> {
    return (await this.rpc.call((c, o) => c.createWebhookKey(input, o), options)).webhookKey!;
  }
  webhookKeys(query?: ListQuery, options?: RequestOptions): Pager<AlertWebhookKey> {
    return new Pager(async (q, o) => {
      const r = await this.rpc.call((c, co) => c.listWebhookKeys({ query: q }, co), o);
      return { items: r.results, totalCount: r.totalCount };
    }, query, options);
  }
  async deleteWebhookKey(webhookKeyId: string, options?: RequestOptions): Promise<void> {
    await this.rpc.call((c, o) => c.deleteWebhookKey({ webhookKeyId }, o), options);
  }
}

/** Escalation policies: ordered notification steps until an alert is acknowledged. */
export class EscalationPolicies {
  constructor(private readonly rpc: ServiceCaller<typeof EscalationPolicyService>) {}

  async create(input: MessageInitShape<typeof EscalationPolicyServiceCreateRequestSchema>, options?: RequestOptions): Promise<EscalationPolicy> {
    return (await this.rpc.call((c, o) => c.create(input, o), options)).escalationPolicy!;
  }
  async update(input: MessageInitShape<typeof EscalationPolicyServiceUpdateRequestSchema>, options?: RequestOptions): Promise<EscalationPolicy> {
    return (await this.rpc.call((c, o) => c.update(input, o), options)).escalationPolicy!;
  }
  async get(escalationPolicyId: string, options?: RequestOptions): Promise<EscalationPolicy> {
    return (await this.rpc.call((c, o) => c.get({ escalationPolicyId }, o), options)).escalationPolicy!;
  }
  list(query?: ListQuery, options?: RequestOptions): Pager<EscalationPolicy> {
    return new Pager(async (q, o) => {
      const r = await this.rpc.call((c, co) => c.list({ query: q }, co), o);
      return { items: r.results, totalCount: r.totalCount };
    }, query, options);
  }
  async delete(escalationPolicyId: string, options?: RequestOptions): Promise<void> {
    await this.rpc.call((c, o) => c.delete({ escalationPolicyId }, o), options);
  }
}

/** Maintenance windows (silences): label matchers and a time range, optionally recurring. */
export class MaintenanceWindows {
  constructor(private readonly rpc: ServiceCaller<typeof MaintenanceWindowService>) {}

  async create(input: MessageInitShape<typeof MaintenanceWindowServiceCreateRequestSchema>, options?: RequestOptions): Promise<MaintenanceWindow> {
    return (await this.rpc.call((c, o) => c.create(input, o), options)).maintenanceWindow!;
  }
  async get(maintenanceWindowId: string, options?: RequestOptions): Promise<MaintenanceWindow> {
    return (await this.rpc.call((c, o) => c.get({ maintenanceWindowId }, o), options)).maintenanceWindow!;
  }
  list(query?: ListQuery, options?: RequestOptions): Pager<MaintenanceWindow> {
    return new Pager(async (q, o) => {
      const r = await this.rpc.call((c, co) => c.list({ query: q }, co), o);
      return { items: r.results, totalCount: r.totalCount };
    }, query, options);
  }
  /** Ends the window now. */
  async expire(maintenanceWindowId: string, options?: RequestOptions): Promise<MaintenanceWindow> {
    return (await this.rpc.call((c, o) => c.expire({ maintenanceWindowId }, o), options)).maintenanceWindow!;
  }
  async delete(maintenanceWindowId: string, options?: RequestOptions): Promise<void> {
    await this.rpc.call((c, o) => c.delete({ maintenanceWindowId }, o), options);
  }
}

/** Monitoring's alerting managers, as `client.alerting`. */
export class AlertingManagers {
  readonly alertRules: AlertRules;
  readonly alerts: Alerts;
  readonly escalationPolicies: EscalationPolicies;
  readonly maintenanceWindows: MaintenanceWindows;

  constructor(callers: {
    alertRules: ServiceCaller<typeof AlertRuleService>;
    alerts: ServiceCaller<typeof AlertService>;
    escalationPolicies: ServiceCaller<typeof EscalationPolicyService>;
    maintenanceWindows: ServiceCaller<typeof MaintenanceWindowService>;
  }) {
    this.alertRules = new AlertRules(callers.alertRules);
    this.alerts = new Alerts(callers.alerts);
    this.escalationPolicies = new EscalationPolicies(callers.escalationPolicies);
    this.maintenanceWindows = new MaintenanceWindows(callers.maintenanceWindows);
  }
}

/** The services behind AlertingManagers (for the client's wiring). */
export const alertingServices = { AlertRuleService, AlertService, EscalationPolicyService, MaintenanceWindowService } as const;
