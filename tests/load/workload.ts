// The load's mixed workload: reads and writes of every service, each a weighted operation named by
// its RPC. A client repeatedly picks one at random by weight; the load times each call.
import { fromJson } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { createClient, type Client, type Interceptor, type Transport } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { CloudServiceService } from "@cloudforet/proto/cloudforet/cloud_service/v1/cloud_service_pb";
import { QuerySchema, StatQuerySchema } from "@cloudforet/proto/cloudforet/common/v1/query_pb";
import { CostService, CostServiceAnalyzeRequest_Granularity } from "@cloudforet/proto/cloudforet/cost/v1/cost_pb";
import { AuthService } from "@cloudforet/proto/cloudforet/identity/v1/auth_pb";
import { UserService } from "@cloudforet/proto/cloudforet/identity/v1/user_pb";
import { WorkspaceService } from "@cloudforet/proto/cloudforet/identity/v1/workspace_pb";
import { CollectorService } from "@cloudforet/proto/cloudforet/inventory/v1/collector_pb";
import { JobService } from "@cloudforet/proto/cloudforet/inventory/v1/job_pb";
import { MetricService } from "@cloudforet/proto/cloudforet/monitoring/v1/metric_pb";
import { Channel_ChannelType, ChannelService } from "@cloudforet/proto/cloudforet/notification/v1/channel_pb";
import { NotificationService } from "@cloudforet/proto/cloudforet/notification/v1/notification_pb";
import { InstanceService } from "@cloudforet/proto/cloudforet/orchestration/v1/instance_pb";
import { SequenceService } from "@cloudforet/proto/cloudforet/orchestration/v1/sequence_pb";
import type { ServiceName } from "./platform-processes";

export interface Operation {
  /** "cloudforet.cost.v1.CostService/Create" style, as the report's rows. */
  rpc: string;
  weight: number;
  run(): Promise<unknown>;
}

/** Resources the writes spread over: upserts both create and update, metrics and costs have a few series. */
const RESOURCES = 2_000;
const pick = <T>(values: readonly T[]): T => values[Math.floor(Math.random() * values.length)];
const resourceId = () => `vm-load-${Math.floor(Math.random() * RESOURCES)}`;

const listQuery = fromJson(QuerySchema, { sort: { key: "created_at", desc: true }, page: { start: 0, limit: 20 } });
const resourceQuery = fromJson(QuerySchema, {
  filter: [
    { k: "provider", v: "nutanix", o: "eq" },
    { k: "state", v: "ON", o: "eq" },
    { k: "tags.environment", v: "production", o: "eq" },
  ],
  sort: { key: "name" },
  page: { start: 0, limit: 50 },
});
const resourceStat = fromJson(StatQuerySchema, {
  aggregate: [{ group: { keys: ["data.cluster", "state"] }, statistics: { count: { key: "cloud_service_id" }, avg_cpu: { field: "data.cpu_cores" } } }],
  filter: [{ k: "provider", v: "nutanix", o: "eq" }],
});

export interface Workload {
  /** The mix the clients draw from. */
  operations: Operation[];
  /**
   * Login, measured apart from the mix (issue 15): a password check is slow on purpose (scrypt, tens
   * of milliseconds of CPU on the libuv pool), so in the mix it would measure the hash, not the platform.
   */
  login: Operation;
}

/**
 * Logs in, creates what the reads and writes need (a workspace, a webhook channel to `webhookUrl`,
 * a push-only collector, a one-step sequence), and returns the weighted operations and Login.
 */
export async function prepareWorkload(urls: Record<ServiceName, string>, adminPassword: string, webhookUrl: string): Promise<Workload> {
  const login = { domainId: "domain-default", userId: "admin", password: adminPassword };
  const transports = new Map<string, Transport>();
  let token = "";
  const bearer: Interceptor = (next) => (req) => {
    req.header.set("authorization", `Bearer ${token}`);
    return next(req);
  };
  // One HTTP/2 connection per service, multiplexing every client's calls, as a service's client pool would.
  const transport = (name: ServiceName) => {
    if (!transports.has(name)) transports.set(name, createGrpcTransport({ baseUrl: urls[name], interceptors: [bearer] }));
    return transports.get(name)!;
  };
  const auth = createClient(AuthService, createGrpcTransport({ baseUrl: urls.identity }));
  token = (await auth.login(login)).token;

  const users: Client<typeof UserService> = createClient(UserService, transport("identity"));
  const resources = createClient(CloudServiceService, transport("cloud-service"));
  const costs = createClient(CostService, transport("cost"));
  const metrics = createClient(MetricService, transport("monitoring"));
  const notifications = createClient(NotificationService, transport("notification"));
  const collectors = createClient(CollectorService, transport("inventory"));
  const jobs = createClient(JobService, transport("inventory"));
  const instances = createClient(InstanceService, transport("orchestration"));

  await createClient(WorkspaceService, transport("identity")).create({ workspaceId: "ws-load", name: "Load" });
  const channel = await createClient(ChannelService, transport("notification")).create({
    name: "load-hook",
    channelType: Channel_ChannelType.WEBHOOK,
    options: { url: webhookUrl },
  });
  await collectors.create({ collectorId: "collector-load", name: "Load", provider: "nutanix", workspaceId: "ws-load" });
  const sequence = await createClient(SequenceService, transport("orchestration")).create({
    tenantId: "domain-default",
    namespace: "load",
    name: "noop",
    blocks: [{ type: "step", id: "step_0", handler: "noop" }],
  });
  const instanceIds: string[] = [];
  const createInstance = async () => {
    const created = await instances.create({ sequenceId: sequence.id, tenantId: "domain-default", namespace: "load" });
    if (instanceIds.length < 10_000) instanceIds.push(created.id);
    return created;
  };
  await createInstance(); // so that Get always has an instance to read
  const today = new Date().toISOString().slice(0, 10);

  const operations: Operation[] = [
    { rpc: "identity UserService/List", weight: 4, run: () => users.list({ query: listQuery }) },
    {
      rpc: "cloud-service CloudServiceService/Upsert",
      weight: 8,
      run: () => {
        const id = resourceId();
        const n = Number(id.slice(8));
        return resources.upsert({
          cloudServiceType: "compute.Instance",
          cloudServiceGroup: "Nutanix",
          cloudServiceName: `server-${n}`,
          provider: "nutanix",
          account: `sa-load-${n % 5}`,
          data: { state: pick(["ON", "OFF"]), cpu_cores: 2 ** (n % 4), cluster: `cluster-${n % 3}` },
          tags: { environment: pick(["production", "development"]) },
          reference: { resourceId: id },
        });
      },
    },
    { rpc: "cloud-service CloudServiceService/List", weight: 6, run: () => resources.list({ query: resourceQuery }) },
    { rpc: "cloud-service CloudServiceService/Stat", weight: 3, run: () => resources.stat({ query: resourceStat }) },
    {
      rpc: "cost CostService/Create",
      weight: 6,
      run: () => costs.create({ date: today, cost: Math.round(Math.random() * 10_000) / 100, resourceId: resourceId(), tags: { cluster: pick(["a", "b", "c"]) } }),
    },
    {
      rpc: "cost CostService/Analyze",
      weight: 3,
      run: () => costs.analyze({ granularity: CostServiceAnalyzeRequest_Granularity.DAILY, start: today, end: today, groupBy: ["tags.cluster"] }),
    },
    {
      rpc: "monitoring MetricService/Push",
      weight: 8,
      run: () => metrics.push({ resourceId: resourceId(), metricName: "cpu.utilization", value: Math.random() * 100, unit: "percent" }),
    },
    {
      rpc: "monitoring MetricService/GetData",
      weight: 4,
      run: () =>
        metrics.getData({
          resourceIds: [resourceId(), resourceId()],
          metricName: "cpu.utilization",
          start: timestampFromDate(new Date(Date.now() - 3_600_000)),
          end: timestampFromDate(new Date(Date.now() + 60_000)),
          period: 300,
        }),
    },
    {
      rpc: "notification NotificationService/Send",
      weight: 3,
      run: () => notifications.send({ title: "Load", message: "load test notification", channels: [channel.channelId] }),
    },
    { rpc: "notification NotificationService/List", weight: 4, run: () => notifications.list({ query: listQuery }) },
    { rpc: "inventory CollectorService/List", weight: 3, run: () => collectors.list({ query: listQuery }) },
    { rpc: "inventory JobService/List", weight: 3, run: () => jobs.list({ query: listQuery }) },
    { rpc: "orchestration InstanceService/Create", weight: 5, run: createInstance },
    {
      rpc: "orchestration InstanceService/Get",
      weight: 5,
      run: () => instances.get({ id: pick(instanceIds) }),
    },
  ];
  return { operations, login: { rpc: "identity AuthService/Login", weight: 0, run: () => auth.login(login) } };
}
