import type { DescMessage, JsonObject, MessageShape } from "@bufbuild/protobuf";
import type { Client, ListQuery, Pager } from "@cloudforet/sdk";
import { CloudServiceSchema } from "@cloudforet/proto/cloudforet/cloud_service/v1/cloud_service_pb";
import { CloudServiceTypeSchema } from "@cloudforet/proto/cloudforet/cloud_service/v1/cloud_service_type_pb";
import { ChangeHistorySchema } from "@cloudforet/proto/cloudforet/cloud_service/v1/change_history_pb";
import { CollectorRuleSchema } from "@cloudforet/proto/cloudforet/inventory/v1/collector_rule_pb";
import { CostSchema } from "@cloudforet/proto/cloudforet/cost/v1/cost_pb";
import { DataSourceSchema } from "@cloudforet/proto/cloudforet/cost/v1/data_source_pb";
import { BudgetSchema } from "@cloudforet/proto/cloudforet/cost/v1/budget_pb";
import { ApiKeySchema } from "@cloudforet/proto/cloudforet/identity/v1/api_key_pb";
import { ProjectSchema } from "@cloudforet/proto/cloudforet/identity/v1/project_pb";
import { SecretSchema } from "@cloudforet/proto/cloudforet/identity/v1/secret_pb";
import { ServiceAccountSchema } from "@cloudforet/proto/cloudforet/identity/v1/service_account_pb";
import { UserSchema } from "@cloudforet/proto/cloudforet/identity/v1/user_pb";
import { WorkspaceSchema } from "@cloudforet/proto/cloudforet/identity/v1/workspace_pb";
import { CollectorSchema } from "@cloudforet/proto/cloudforet/inventory/v1/collector_pb";
import { JobSchema } from "@cloudforet/proto/cloudforet/inventory/v1/job_pb";
import { JobTaskSchema } from "@cloudforet/proto/cloudforet/inventory/v1/job_task_pb";
import { AlertSchema } from "@cloudforet/proto/cloudforet/monitoring/v1/alert_pb";
import { AlertRuleSchema } from "@cloudforet/proto/cloudforet/monitoring/v1/alert_rule_pb";
import { EscalationPolicySchema } from "@cloudforet/proto/cloudforet/monitoring/v1/escalation_policy_pb";
import { MaintenanceWindowSchema } from "@cloudforet/proto/cloudforet/monitoring/v1/maintenance_window_pb";
import { MetricSchema } from "@cloudforet/proto/cloudforet/monitoring/v1/metric_pb";
import { ChannelSchema } from "@cloudforet/proto/cloudforet/notification/v1/channel_pb";
import { NotificationSchema } from "@cloudforet/proto/cloudforet/notification/v1/notification_pb";
import { UsageError } from "./cli-error";
import { messageJson } from "./message-json";
import { orchestrationResources } from "./orchestration-resources";
import { limited, pageSizeFor } from "./paging";
import type { ResourceType } from "./resource-type";

export type { ListRequest, ResourceType, StatRequest } from "./resource-type";

type WithData<M> = { data: M };

interface Manager<M> {
  list(query?: ListQuery): Pager<WithData<M>> | Pager<M>;
  get?(id: string): Promise<WithData<M>>;
  delete?(id: string): Promise<void>;
}

/** A resource whose List takes the query language (SPEC §5): filters and sort go to the server. */
function queried<D extends DescMessage>(
  shape: Pick<ResourceType, "name" | "kind" | "aliases" | "idField" | "columns">,
  schema: D,
  manager: (client: Client) => Manager<MessageShape<D>>,
  extra: Partial<ResourceType> = {},
): ResourceType {
  // Managers return handles (`data` is the message); metrics return the messages themselves.
  const json = (item: WithData<MessageShape<D>> | MessageShape<D>) => messageJson(schema, ("data" in item && !("$typeName" in item) ? item.data : item) as MessageShape<D>);
  return {
    ...shape,
    async *list(client, request) {
      const pager = manager(client).list({ filter: request.filter, sort: request.sort, pageSize: pageSizeFor(request.limit) }) as AsyncIterable<WithData<MessageShape<D>> | MessageShape<D>>;
      for await (const item of limited(pager, request.limit)) yield json(item);
    },
    get: (client, id) => {
      const target = manager(client);
      const get = target.get?.bind(target);
      if (!get) throw new UsageError(`${shape.name} cannot be fetched one by one; use cfctl list ${shape.name} --filter`, "get");
      return get(id).then((handle) => json(handle));
    },
    delete: (client, id) => {
      const target = manager(client);
      const remove = target.delete?.bind(target);
      if (!remove) throw new UsageError(`${shape.name} cannot be deleted`, "delete");
      return remove(id);
    },
    ...extra,
  };
}

const RESOURCES: ResourceType[] = [
  queried(
    { name: "workspaces", kind: "workspace", aliases: ["ws"], idField: "workspace_id", columns: ["workspace_id", "name", "state", "created_at"] },
    WorkspaceSchema,
    (c) => c.identity.workspaces,
  ),
  queried(
    { name: "projects", kind: "project", aliases: ["proj"], idField: "project_id", columns: ["project_id", "name", "workspace_id", "created_at"] },
    ProjectSchema,
    (c) => c.identity.projects,
  ),
  queried(
    { name: "users", kind: "user", aliases: [], idField: "user_id", columns: ["user_id", "name", "email", "state", "created_at"] },
    UserSchema,
    (c) => c.identity.users,
  ),
  queried(
    {
      name: "service-accounts",
      kind: "service-account",
      aliases: ["sa"],
      idField: "service_account_id",
      columns: ["service_account_id", "name", "provider", "workspace_id", "secret_id", "project_id"],
    },
    ServiceAccountSchema,
    (c) => c.identity.serviceAccounts,
  ),
  queried(
    { name: "api-keys", kind: "api-key", aliases: ["keys"], idField: "api_key_id", columns: ["api_key_id", "name", "user_id", "state", "key_prefix", "last_used_at"] },
    ApiKeySchema,
    (c) => c.identity.apiKeys,
  ),
  // Metadata only: SecretService.Get/List never return values, and cfctl has no command that does.
  queried(
    { name: "secrets", kind: "secret", aliases: [], idField: "secret_id", columns: ["secret_id", "name", "workspace_id", "service_account_id", "expires_at", "created_at"] },
    SecretSchema,
    (c) => ({ list: (q) => c.identity.secrets.list(q), get: (id) => c.identity.secrets.get(id), delete: (id) => c.identity.secrets.delete(id) }),
  ),
  queried(
    {
      name: "collectors",
      kind: "collector",
      aliases: ["col"],
      idField: "collector_id",
      columns: ["collector_id", "name", "provider", "plugin_info.endpoint", "workspace_id", "schedule.enabled", "schedule.cron", "schedule.interval_seconds", "schedule.next_fire_at", "last_collected_at"],
    },
    CollectorSchema,
    (c) => c.inventory.collectors,
  ),
  queried(
    {
      name: "jobs",
      kind: "job",
      aliases: [],
      idField: "job_id",
      columns: ["job_id", "collector_id", "status", "progress", "created_count", "updated_count", "error_count", "created_at"],
    },
    JobSchema,
    (c) => ({ list: (q) => c.inventory.jobs.list(q), get: (id) => c.inventory.jobs.get(id) }),
  ),
  queried(
    {
      name: "job-tasks",
      kind: "job-task",
      aliases: ["tasks", "jt"],
      idField: "job_task_id",
      columns: ["job_task_id", "job_id", "service_account_id", "status", "progress", "created_count", "updated_count", "error_count"],
    },
    JobTaskSchema,
    (c) => ({ list: (q) => c.inventory.jobTasks.list(q), get: (id) => c.inventory.jobTasks.get(id) }),
  ),
  queried(
    {
      name: "cloud-services",
      kind: "cloud-service",
      aliases: ["cs"],
      idField: "cloud_service_id",
      columns: ["cloud_service_id", "name", "cloud_service_type", "cloud_service_group", "provider", "account", "state"],
    },
    CloudServiceSchema,
    (c) => c.cloudServices,
    {
      async stat(client, request) {
        const statistics = request.sum
          ? { [`sum_${request.sum.split(".").pop()}`]: { field: request.sum, operator: "sum" } }
          : { count: { key: "cloud_service_id", operator: "count" } };
        return client.cloudServices.stat({ filter: request.filter, aggregate: [{ group: { keys: request.groupBy }, statistics }] });
      },
    },
  ),
  queried(
    {
      name: "cloud-service-types",
      kind: "cloud-service-type",
      aliases: ["cst"],
      idField: "cloud_service_type_id",
      columns: ["cloud_service_type_id", "key", "name", "group", "provider", "is_builtin"],
    },
    CloudServiceTypeSchema,
    (c) => c.cloudServiceTypes,
  ),
  queried(
    { name: "data-sources", kind: "data-source", aliases: ["ds"], idField: "data_source_id", columns: ["data_source_id", "name", "provider", "workspace_id", "created_at"] },
    DataSourceSchema,
    (c) => c.cost.dataSources,
  ),
  queried(
    { name: "costs", kind: "cost", aliases: [], idField: "cost_id", columns: ["cost_id", "date", "cost", "currency", "resource_id", "resource_type", "data_source_id"] },
    CostSchema,
    (c) => ({ list: (q) => c.cost.costs.list(q), get: (id) => c.cost.costs.get(id) }),
  ),
  queried(
    { name: "budgets", kind: "budget", aliases: [], idField: "budget_id", columns: ["budget_id", "name", "time_unit", "limit", "currency", "workspace_id", "data_source_id"] },
    BudgetSchema,
    (c) => c.cost.budgets,
  ),
  queried(
    { name: "metrics", kind: "metric", aliases: [], idField: "metric_id", columns: ["resource_id", "metric_name", "value", "unit", "timestamp"] },
    MetricSchema,
    (c) => ({ list: (q) => c.monitoring.metrics.list(q) }),
  ),
  queried(
    { name: "alerts", kind: "alert", aliases: [], idField: "alert_id", columns: ["alert_id", "title", "state", "severity", "resource_id", "assignee", "starts_at"] },
    AlertSchema,
    (c) => ({ list: (q) => c.alerting.alerts.list(q), get: (id) => c.alerting.alerts.get(id).then((data) => ({ data })) }),
  ),
  queried(
    { name: "alert-rules", kind: "alert-rule", aliases: ["rules"], idField: "alert_rule_id", columns: ["alert_rule_id", "name", "metric_name", "comparison", "threshold", "severity", "enabled"] },
    AlertRuleSchema,
    (c) => ({ list: (q) => c.alerting.alertRules.list(q), get: (id) => c.alerting.alertRules.get(id).then((data) => ({ data })), delete: (id) => c.alerting.alertRules.delete(id) }),
  ),
  queried(
    { name: "escalation-policies", kind: "escalation-policy", aliases: ["ep"], idField: "escalation_policy_id", columns: ["escalation_policy_id", "name", "repeat_count", "workspace_id", "created_at"] },
    EscalationPolicySchema,
    (c) => ({ list: (q) => c.alerting.escalationPolicies.list(q), get: (id) => c.alerting.escalationPolicies.get(id).then((data) => ({ data })), delete: (id) => c.alerting.escalationPolicies.delete(id) }),
  ),
  queried(
    { name: "maintenance-windows", kind: "maintenance-window", aliases: ["silences", "mw"], idField: "maintenance_window_id", columns: ["maintenance_window_id", "name", "state", "starts_at", "ends_at", "recurrence"] },
    MaintenanceWindowSchema,
    (c) => ({ list: (q) => c.alerting.maintenanceWindows.list(q), get: (id) => c.alerting.maintenanceWindows.get(id).then((data) => ({ data })), delete: (id) => c.alerting.maintenanceWindows.delete(id) }),
  ),
  queried(
    { name: "channels", kind: "channel", aliases: ["ch"], idField: "channel_id", columns: ["channel_id", "name", "channel_type", "workspace_id", "created_at"] },
    ChannelSchema,
    (c) => c.notification.channels,
  ),
  queried(
    {
      name: "notifications",
      kind: "notification",
      aliases: ["notif"],
      idField: "notification_id",
      columns: ["notification_id", "title", "severity", "notification_type", "is_read", "created_at"],
    },
    NotificationSchema,
    (c) => ({ list: (q) => c.notification.notifications.list(q), get: (id) => c.notification.notifications.get(id) }),
  ),
  queried(
    {
      name: "changes",
      kind: "change",
      aliases: ["change-history", "history"],
      idField: "change_id",
      columns: ["change_id", "cloud_service_id", "action", "updated_by", "author_id", "diff_count", "created_at"],
    },
    ChangeHistorySchema,
    (c) => c.changeHistory,
  ),
  queried(
    {
      name: "collector-rules",
      kind: "collector-rule",
      aliases: ["rules", "cr"],
      idField: "collector_rule_id",
      columns: ["collector_rule_id", "name", "collector_id", "order", "conditions_policy", "stop_processing"],
    },
    CollectorRuleSchema,
    (c) => c.collectorRules,
  ),
  ...orchestrationResources,
];

/** Every resource type, in the order `cfctl list --help` shows them. */
export function resourceTypes(): readonly ResourceType[] {
  return RESOURCES;
}

/** The resource type a command-line word names: plural, singular or alias (`cs`). */
export function resolveResource(word: string | undefined, command: string): ResourceType {
  if (!word) throw new UsageError(`${command} needs a resource, e.g. cfctl ${command} cloud-services`, command);
  const lower = word.toLowerCase();
  const found = RESOURCES.find((r) => r.name === lower || r.kind === lower || r.aliases.includes(lower));
  if (!found) throw new UsageError(`unknown resource "${word}"; cfctl ${command} --help lists them`, command);
  return found;
}
