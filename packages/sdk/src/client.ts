import type { DescService } from "@bufbuild/protobuf";
import { createClient, type Client as ConnectClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcWebTransport } from "@connectrpc/connect-web";
import { CloudServiceService } from "@cloudforet/proto/cloudforet/cloud_service/v1/cloud_service_pb";
import { CloudServiceTypeService } from "@cloudforet/proto/cloudforet/cloud_service/v1/cloud_service_type_pb";
import { CostService } from "@cloudforet/proto/cloudforet/cost/v1/cost_pb";
import { DataSourceService } from "@cloudforet/proto/cloudforet/cost/v1/data_source_pb";
import { ApiKeyService } from "@cloudforet/proto/cloudforet/identity/v1/api_key_pb";
import { AuthService } from "@cloudforet/proto/cloudforet/identity/v1/auth_pb";
import { ProjectService } from "@cloudforet/proto/cloudforet/identity/v1/project_pb";
import { SecretService } from "@cloudforet/proto/cloudforet/identity/v1/secret_pb";
import { ServiceAccountService } from "@cloudforet/proto/cloudforet/identity/v1/service_account_pb";
import { UserService } from "@cloudforet/proto/cloudforet/identity/v1/user_pb";
import { WorkspaceService } from "@cloudforet/proto/cloudforet/identity/v1/workspace_pb";
import { RequestLogService } from "@cloudforet/proto/cloudforet/identity/v1/request_log_pb";
import { CollectorService } from "@cloudforet/proto/cloudforet/inventory/v1/collector_pb";
import { JobService } from "@cloudforet/proto/cloudforet/inventory/v1/job_pb";
import { JobTaskService } from "@cloudforet/proto/cloudforet/inventory/v1/job_task_pb";
import { EnrollmentService, PluginAliasService, PluginService } from "@cloudforet/proto/cloudforet/inventory/v1/plugin_pb";
import { MetricService } from "@cloudforet/proto/cloudforet/monitoring/v1/metric_pb";
import { ChannelService } from "@cloudforet/proto/cloudforet/notification/v1/channel_pb";
import { NotificationService } from "@cloudforet/proto/cloudforet/notification/v1/notification_pb";
import { InstanceService } from "@cloudforet/proto/cloudforet/orchestration/v1/instance_pb";
import { SequenceService } from "@cloudforet/proto/cloudforet/orchestration/v1/sequence_pb";
import { CronService } from "@cloudforet/proto/cloudforet/orchestration/v1/cron_pb";
import { RecurrentRequestService } from "@cloudforet/proto/cloudforet/orchestration/v1/recurrent_request_pb";
import { TriggerService } from "@cloudforet/proto/cloudforet/orchestration/v1/trigger_pb";
import { serviceUrl, type ClientOptions, type ServiceName } from "./config";
import { CloudServices, CloudServiceTypes } from "./managers/cloud-service";
import { ChangeHistories } from "./managers/change-history";
import { CollectorRules } from "./managers/collector-rules";
import { ChangeHistoryService } from "@cloudforet/proto/cloudforet/cloud_service/v1/change_history_pb";
import { CollectorRuleService } from "@cloudforet/proto/cloudforet/inventory/v1/collector_rule_pb";
import { Costs, DataSources } from "./managers/cost";
import { Budgets, BudgetService } from "./managers/budgets";
import { IdentityManagers } from "./managers/identity";
import { RequestLogs } from "./managers/request-logs";
import { InventoryManagers } from "./managers/inventory";
import { Enrollments, Plugins } from "./managers/plugins";
import { Metrics } from "./managers/monitoring";
import { AlertingManagers, alertingServices } from "./managers/alerting";
import { Channels, Notifications } from "./managers/notification";
import { CronSchedules, Instances, RecurrentRequests, Sequences, Triggers } from "./managers/orchestration";
import { ServiceCaller, type TransportSettings } from "./rpc";
import { Session } from "./session";

/**
 * The CloudForet client: one per process and set of credentials.
 *
 * ```ts
 * const client = Client.fromEnv(); // @cloudforet/sdk/node; in a browser: new Client({ transport, apiKey, userId })
 * for await (const cs of client.cloudServices.list({ filter: [{ k: "provider", v: "nutanix" }] })) …
 * const job = await client.inventory.collectors.get("collector-…").then((c) => c.collect());
 * for await (const event of job.watch()) …
 * ```
 */
export class Client {
  readonly identity: IdentityManagers;
  readonly inventory: InventoryManagers;
  readonly cloudServices: CloudServices;
  readonly cloudServiceTypes: CloudServiceTypes;
  /** What each write changed on resources, by whom (cloud-service). */
  readonly changeHistory: ChangeHistories;
  /** Ordered rules applied to collected resources (inventory). */
  readonly collectorRules: CollectorRules;
  readonly cost: { dataSources: DataSources; costs: Costs; budgets: Budgets };
  readonly monitoring: { metrics: Metrics };
  /** Alert rules, alerts, escalation policies and maintenance windows (monitoring). */
  readonly alerting: AlertingManagers;
  readonly notification: { channels: Channels; notifications: Notifications };
  readonly orchestration: { sequences: Sequences; instances: Instances; cronSchedules: CronSchedules; triggers: Triggers; recurrentRequests: RecurrentRequests };
  /** The caller's own request logs (seed 001 `client.request_logs`). */
  readonly requestLogs: RequestLogs;
  /** The plugin registry: plugins, versions, `plugins.aliases` and `plugins.enrollments` (seed 001 `client.plugins`). */
  readonly plugins: Plugins;
  /** Shorthand for `client.plugins.enrollments`. */
  readonly enrollments: Enrollments;
  /** The login state: the token is obtained, refreshed and renewed here. */
  readonly session: Session;

  constructor(options: ClientOptions = {}) {
    const timeoutMs = options.timeoutMs ?? 30_000;
    const auth = () => this.connectService(AuthService, "identity", options);
    this.session = new Session(auth, {
      apiKey: options.apiKey,
      password: options.password,
      token: options.token,
      domainId: options.domainId ?? "domain-default",
      userId: options.userId,
    });
    const settings: TransportSettings = { session: this.session, timeoutMs };
    // Transports are made lazily, so a client for some services needs only their URLs.
    const caller = <S extends DescService>(service: S, name: ServiceName) => lazyCaller(() => this.connectService(service, name, options), settings);

    this.identity = new IdentityManagers({
      workspaces: caller(WorkspaceService, "identity"),
      projects: caller(ProjectService, "identity"),
      users: caller(UserService, "identity"),
      serviceAccounts: caller(ServiceAccountService, "identity"),
      apiKeys: caller(ApiKeyService, "identity"),
      secrets: caller(SecretService, "identity"),
    });
    this.inventory = new InventoryManagers({
      collectors: caller(CollectorService, "inventory"),
      jobs: caller(JobService, "inventory"),
      jobTasks: caller(JobTaskService, "inventory"),
    });
    this.requestLogs = new RequestLogs(caller(RequestLogService, "identity"));
    this.plugins = new Plugins({
      plugins: caller(PluginService, "inventory"),
      aliases: caller(PluginAliasService, "inventory"),
      enrollments: caller(EnrollmentService, "inventory"),
    });
    this.enrollments = this.plugins.enrollments;
    this.cloudServices = new CloudServices(caller(CloudServiceService, "cloudService"));
    this.cloudServiceTypes = new CloudServiceTypes(caller(CloudServiceTypeService, "cloudService"));
    this.changeHistory = new ChangeHistories(caller(ChangeHistoryService, "cloudService"));
    this.collectorRules = new CollectorRules(caller(CollectorRuleService, "inventory"));
    this.cost = { dataSources: new DataSources(caller(DataSourceService, "cost")), costs: new Costs(caller(CostService, "cost")), budgets: new Budgets(caller(BudgetService, "cost")) };
    this.monitoring = { metrics: new Metrics(caller(MetricService, "monitoring")) };
    this.alerting = new AlertingManagers({
      alertRules: caller(alertingServices.AlertRuleService, "monitoring"),
      alerts: caller(alertingServices.AlertService, "monitoring"),
      escalationPolicies: caller(alertingServices.EscalationPolicyService, "monitoring"),
      maintenanceWindows: caller(alertingServices.MaintenanceWindowService, "monitoring"),
    });
    this.notification = {
      channels: new Channels(caller(ChannelService, "notification")),
      notifications: new Notifications(caller(NotificationService, "notification")),
    };
    const instances = new Instances(caller(InstanceService, "orchestration"));
    this.orchestration = {
      sequences: new Sequences(caller(SequenceService, "orchestration")),
      instances,
      cronSchedules: new CronSchedules(caller(CronService, "orchestration")),
      triggers: new Triggers(caller(TriggerService, "orchestration")),
      recurrentRequests: new RecurrentRequests(caller(RecurrentRequestService, "orchestration"), instances),
    };
  }

  /** Shorthand for `client.identity.secrets` (seed 001's `client.secrets`). */
  get secrets() {
    return this.identity.secrets;
  }

  /** Logs in now (otherwise the first call does); throws AuthenticationError for bad credentials. */
  async login(): Promise<void> {
    await this.session.token();
  }

  /**
   * The Connect client of one service. Here: the given `transport`, else Connect (or gRPC-web)
   * over `fetch` to the service's URL, which works in browsers, Deno, Bun and Node alike.
   * `@cloudforet/sdk/node` overrides it with gRPC over HTTP/2, retries and circuit breakers.
   */
  protected connectService<S extends DescService>(service: S, name: ServiceName, options: ClientOptions): ConnectClient<S> {
    const given = options.transport;
    if (given) return createClient(service, typeof given === "function" ? given(name) : given);
    const transportOptions = { baseUrl: serviceUrl(options, name), useBinaryFormat: true, defaultTimeoutMs: options.timeoutMs ?? 30_000 };
    const transport = options.protocol === "grpc-web" ? createGrpcWebTransport(transportOptions) : createConnectTransport(transportOptions);
    return createClient(service, transport);
  }
}

/** A caller created on first use (its service's URL is needed only then). */
function lazyCaller<S extends DescService>(connect: () => ConnectClient<S>, settings: TransportSettings): ServiceCaller<S> {
  let real: ServiceCaller<S> | undefined;
  const get = () => (real ??= new ServiceCaller(connect(), settings));
  return {
    call: (fn, options) => get().call(fn, options),
    stream: (fn, options) => get().stream(fn, options),
  } as ServiceCaller<S>;
}
