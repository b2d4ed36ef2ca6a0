import type { DescService } from "@bufbuild/protobuf";
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
import { CollectorService } from "@cloudforet/proto/cloudforet/inventory/v1/collector_pb";
import { JobService } from "@cloudforet/proto/cloudforet/inventory/v1/job_pb";
import { JobTaskService } from "@cloudforet/proto/cloudforet/inventory/v1/job_task_pb";
import { MetricService } from "@cloudforet/proto/cloudforet/monitoring/v1/metric_pb";
import { ChannelService } from "@cloudforet/proto/cloudforet/notification/v1/channel_pb";
import { NotificationService } from "@cloudforet/proto/cloudforet/notification/v1/notification_pb";
import { InstanceService } from "@cloudforet/proto/cloudforet/orchestration/v1/instance_pb";
import { SequenceService } from "@cloudforet/proto/cloudforet/orchestration/v1/sequence_pb";
import { CronService } from "@cloudforet/proto/cloudforet/orchestration/v1/cron_pb";
import { RecurrentRequestService } from "@cloudforet/proto/cloudforet/orchestration/v1/recurrent_request_pb";
import { TriggerService } from "@cloudforet/proto/cloudforet/orchestration/v1/trigger_pb";
import { createServiceClient, type RetryOptions } from "@cloudforet/resilience";
import { optionsFromEnv, serviceUrl, type ClientOptions, type ServiceName } from "./config";
import { CloudServices, CloudServiceTypes } from "./managers/cloud-service";
import { Costs, DataSources } from "./managers/cost";
import { IdentityManagers } from "./managers/identity";
import { InventoryManagers } from "./managers/inventory";
import { Metrics } from "./managers/monitoring";
import { Channels, Notifications } from "./managers/notification";
import { CronSchedules, Instances, RecurrentRequests, Sequences, Triggers } from "./managers/orchestration";
import { ServiceCaller, type TransportSettings } from "./rpc";
import { Session } from "./session";

/**
 * The CloudForet client: one per process and set of credentials.
 *
 * ```ts
 * const client = Client.fromEnv();
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
  readonly cost: { dataSources: DataSources; costs: Costs };
  readonly monitoring: { metrics: Metrics };
  readonly notification: { channels: Channels; notifications: Notifications };
  readonly orchestration: { sequences: Sequences; instances: Instances; cronSchedules: CronSchedules; triggers: Triggers; recurrentRequests: RecurrentRequests };
  /** The login state: the token is obtained, refreshed and renewed here. */
  readonly session: Session;

  constructor(options: ClientOptions = {}) {
    const retries = retryOptions(options.retries);
    const protocol = options.protocol ?? "grpc";
    const timeoutMs = options.timeoutMs ?? 30_000;
    const auth = () => {
      const url = serviceUrl(options, "identity");
      return createServiceClient(AuthService, url, { protocol, timeoutMs, retries, upstream: `${AuthService.typeName}@${new URL(url).host}` });
    };
    this.session = new Session(auth, {
      apiKey: options.apiKey,
      password: options.password,
      token: options.token,
      domainId: options.domainId ?? "domain-default",
      userId: options.userId,
    });
    const settings: TransportSettings = { session: this.session, timeoutMs, retries, protocol };
    // URLs are resolved lazily, so a client for some services needs only their URLs.
    const caller = <S extends DescService>(service: S, name: ServiceName) => lazyCaller(service, () => serviceUrl(options, name), settings);

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
    this.cloudServices = new CloudServices(caller(CloudServiceService, "cloudService"));
    this.cloudServiceTypes = new CloudServiceTypes(caller(CloudServiceTypeService, "cloudService"));
    this.cost = { dataSources: new DataSources(caller(DataSourceService, "cost")), costs: new Costs(caller(CostService, "cost")) };
    this.monitoring = { metrics: new Metrics(caller(MetricService, "monitoring")) };
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

  /**
   * A client configured from the environment: CLOUDFORET_API_KEY (or CLOUDFORET_PASSWORD /
   * CLOUDFORET_TOKEN), CLOUDFORET_USER_ID, CLOUDFORET_DOMAIN_ID, CLOUDFORET_API_URL and
   * CLOUDFORET_<SERVICE>_URL. Options given here win.
   */
  static fromEnv(overrides: ClientOptions = {}, env: NodeJS.ProcessEnv = process.env): Client {
    const fromEnv = optionsFromEnv(env);
    return new Client({ ...fromEnv, ...definedOnly(overrides), urls: { ...fromEnv.urls, ...overrides.urls } });
  }

  /** Logs in now (otherwise the first call does); throws AuthenticationError for bad credentials. */
  async login(): Promise<void> {
    await this.session.token();
  }
}

function retryOptions(retries: ClientOptions["retries"]): RetryOptions | false {
  if (retries === false) return false;
  if (typeof retries === "number") return retries <= 1 ? false : { maxAttempts: retries };
  return retries ?? {};
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** A caller created on first use (its service's URL is needed only then). */
function lazyCaller<S extends DescService>(service: S, url: () => string, settings: TransportSettings): ServiceCaller<S> {
  let real: ServiceCaller<S> | undefined;
  const get = () => (real ??= new ServiceCaller(service, url(), settings));
  return {
    call: (fn, options) => get().call(fn, options),
    stream: (fn, options) => get().stream(fn, options),
  } as ServiceCaller<S>;
}
