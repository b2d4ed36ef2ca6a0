// Each role against a representative read and write RPC of every service that has landed.
import { Code, ConnectError } from "@connectrpc/connect";
import { cloudServiceModule } from "@cloudforet/cloud-service";
import { costModule } from "@cloudforet/cost";
import { inventoryModule } from "@cloudforet/inventory";
import { monitoringModule } from "@cloudforet/monitoring";
import { notificationModule } from "@cloudforet/notification";
import { orchestrationModule } from "@cloudforet/orchestration";
import { InstanceService } from "@cloudforet/proto/cloudforet/orchestration/v1/instance_pb";
import { RateLimitService } from "@cloudforet/proto/cloudforet/orchestration/v1/rate_limit_pb";
import { SequenceService } from "@cloudforet/proto/cloudforet/orchestration/v1/sequence_pb";
import { CloudServiceService } from "@cloudforet/proto/cloudforet/cloud_service/v1/cloud_service_pb";
import { CostService } from "@cloudforet/proto/cloudforet/cost/v1/cost_pb";
import { DataSourceService } from "@cloudforet/proto/cloudforet/cost/v1/data_source_pb";
import { PluginService } from "@cloudforet/proto/cloudforet/inventory/v1/plugin_pb";
import { CollectorService } from "@cloudforet/proto/cloudforet/inventory/v1/collector_pb";
import { MetricService } from "@cloudforet/proto/cloudforet/monitoring/v1/metric_pb";
import { CloudServiceTypeService } from "@cloudforet/proto/cloudforet/cloud_service/v1/cloud_service_type_pb";
import { ProjectService } from "@cloudforet/proto/cloudforet/identity/v1/project_pb";
import { RequestLogService } from "@cloudforet/proto/cloudforet/identity/v1/request_log_pb";
import { SecretService } from "@cloudforet/proto/cloudforet/identity/v1/secret_pb";
import { UserService } from "@cloudforet/proto/cloudforet/identity/v1/user_pb";
import { WorkspaceService } from "@cloudforet/proto/cloudforet/identity/v1/workspace_pb";
import { NotificationService } from "@cloudforet/proto/cloudforet/notification/v1/notification_pb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestPlatform, type Identity, type TestPlatform } from "../support/platform";

type Role = "DOMAIN_ADMIN" | "WORKSPACE_OWNER" | "WORKSPACE_MEMBER";
type Outcome = "allowed" | "denied";

let platform: TestPlatform;
const as: Partial<Record<Role, Identity>> = {};
/** A user of the domain without any role binding. */
let noRole: Identity;

beforeAll(async () => {
  platform = await startTestPlatform({ modules: [cloudServiceModule, inventoryModule, costModule, monitoringModule, notificationModule, orchestrationModule] });
  as.DOMAIN_ADMIN = platform.admin;
  await platform.client(WorkspaceService).create({ workspaceId: "ws-1", name: "ws-1" });
  as.WORKSPACE_OWNER = await platform.createWorkspaceUser(platform.admin, "owner-1", "WORKSPACE_OWNER", "ws-1");
  as.WORKSPACE_MEMBER = await platform.createWorkspaceUser(platform.admin, "member-1", "WORKSPACE_MEMBER", "ws-1");
  await platform.client(UserService).create({ userId: "norole-1", password: "Passw0rd-long", name: "norole-1", roleBindings: [] });
  noRole = await platform.login("domain-default", "norole-1", "Passw0rd-long");
}, 120_000);

afterAll(async () => {
  await platform?.close();
});

let counter = 0;
const unique = (prefix: string) => `${prefix}-${++counter}`;

/** [service, rpc, kind, call, outcome per role] */
const matrix: [string, string, "read" | "write", (who: Identity) => Promise<unknown>, Record<Role, Outcome>][] = [
  ["identity", "ProjectService.List", "read", (who) => platform.client(ProjectService, who).list({}), { DOMAIN_ADMIN: "allowed", WORKSPACE_OWNER: "allowed", WORKSPACE_MEMBER: "allowed" }],
  ["identity", "ProjectService.Create", "write", (who) => platform.client(ProjectService, who).create({ projectId: unique("project"), name: "p", workspaceId: "ws-1" }), { DOMAIN_ADMIN: "allowed", WORKSPACE_OWNER: "allowed", WORKSPACE_MEMBER: "denied" }],
  ["identity", "UserService.Create", "write", (who) => platform.client(UserService, who).create({ userId: unique("user"), password: "Passw0rd-long", name: "u" }), { DOMAIN_ADMIN: "allowed", WORKSPACE_OWNER: "denied", WORKSPACE_MEMBER: "denied" }],
  // Request logging is each caller's own (any role): its switch and its records, never another's.
  ["identity", "RequestLogService.List", "read", (who) => platform.client(RequestLogService, who).list({}), { DOMAIN_ADMIN: "allowed", WORKSPACE_OWNER: "allowed", WORKSPACE_MEMBER: "allowed" }],
  ["identity", "RequestLogService.Stop", "write", (who) => platform.client(RequestLogService, who).stop({}), { DOMAIN_ADMIN: "allowed", WORKSPACE_OWNER: "allowed", WORKSPACE_MEMBER: "allowed" }],
  ["identity", "SecretService.List", "read", (who) => platform.client(SecretService, who).list({}), { DOMAIN_ADMIN: "allowed", WORKSPACE_OWNER: "allowed", WORKSPACE_MEMBER: "allowed" }],
  ["cloud-service", "CloudServiceTypeService.List", "read", (who) => platform.client(CloudServiceTypeService, who).list({}), { DOMAIN_ADMIN: "allowed", WORKSPACE_OWNER: "allowed", WORKSPACE_MEMBER: "allowed" }],
  ["cloud-service", "CloudServiceTypeService.Create", "write", (who) => platform.client(CloudServiceTypeService, who).create({ key: `compute.${unique("T")}`, provider: "nutanix" }), { DOMAIN_ADMIN: "allowed", WORKSPACE_OWNER: "denied", WORKSPACE_MEMBER: "denied" }],
  ["cloud-service", "CloudServiceService.List", "read", (who) => platform.client(CloudServiceService, who).list({}), { DOMAIN_ADMIN: "allowed", WORKSPACE_OWNER: "allowed", WORKSPACE_MEMBER: "allowed" }],
  ["inventory", "CollectorService.List", "read", (who) => platform.client(CollectorService, who).list({}), { DOMAIN_ADMIN: "allowed", WORKSPACE_OWNER: "allowed", WORKSPACE_MEMBER: "allowed" }],
  // The plugin registry: every member reads it, only a domain admin changes it.
  ["inventory", "PluginService.List", "read", (who) => platform.client(PluginService, who).list({}), { DOMAIN_ADMIN: "allowed", WORKSPACE_OWNER: "allowed", WORKSPACE_MEMBER: "allowed" }],
  ["inventory", "PluginService.Register", "write", (who) => platform.client(PluginService, who).register({ pluginId: unique("plugin"), name: "p" }), { DOMAIN_ADMIN: "allowed", WORKSPACE_OWNER: "denied", WORKSPACE_MEMBER: "denied" }],
  ["inventory", "CollectorService.Create", "write", (who) => platform.client(CollectorService, who).create({ collectorId: unique("collector"), name: "c", provider: "nutanix", workspaceId: "ws-1" }), { DOMAIN_ADMIN: "allowed", WORKSPACE_OWNER: "allowed", WORKSPACE_MEMBER: "denied" }],
  ["cost", "CostService.List", "read", (who) => platform.client(CostService, who).list({}), { DOMAIN_ADMIN: "allowed", WORKSPACE_OWNER: "allowed", WORKSPACE_MEMBER: "allowed" }],
  ["cost", "DataSourceService.Create", "write", (who) => platform.client(DataSourceService, who).create({ dataSourceId: unique("ds"), name: "d", provider: "nutanix" }), { DOMAIN_ADMIN: "allowed", WORKSPACE_OWNER: "denied", WORKSPACE_MEMBER: "denied" }],
  ["monitoring", "MetricService.Query", "read", (who) => platform.client(MetricService, who).query({}), { DOMAIN_ADMIN: "allowed", WORKSPACE_OWNER: "allowed", WORKSPACE_MEMBER: "allowed" }],
  // Samples belong to a workspace: pushing needs write access to it, like every other write.
  ["monitoring", "MetricService.Push", "write", (who) => platform.client(MetricService, who).push({ resourceId: "vm-1", metricName: "cpu.utilization", value: 1, workspaceId: "ws-1" }), { DOMAIN_ADMIN: "allowed", WORKSPACE_OWNER: "allowed", WORKSPACE_MEMBER: "denied" }],
  ["notification", "NotificationService.List", "read", (who) => platform.client(NotificationService, who).list({}), { DOMAIN_ADMIN: "allowed", WORKSPACE_OWNER: "allowed", WORKSPACE_MEMBER: "allowed" }],
  // Orchestration has no workspaces: read is any role, write DOMAIN_ADMIN/WORKSPACE_OWNER, admin DOMAIN_ADMIN (orchestration-access.ts).
  ["orchestration", "InstanceService.List", "read", (who) => platform.client(InstanceService, who).list({}), { DOMAIN_ADMIN: "allowed", WORKSPACE_OWNER: "allowed", WORKSPACE_MEMBER: "allowed" }],
  ["orchestration", "SequenceService.Create", "write", (who) => platform.client(SequenceService, who).create({ namespace: "default", name: unique("seq"), blocks: [{ type: "step", id: "s", handler: "noop" }] }), { DOMAIN_ADMIN: "allowed", WORKSPACE_OWNER: "allowed", WORKSPACE_MEMBER: "denied" }],
  ["orchestration", "RateLimitService.Set", "write", (who) => platform.client(RateLimitService, who).set({ key: unique("api"), maxCount: 5, window: "1m" }), { DOMAIN_ADMIN: "allowed", WORKSPACE_OWNER: "denied", WORKSPACE_MEMBER: "denied" }],
  ["notification", "NotificationService.Send", "write", (who) => platform.client(NotificationService, who).send({ title: "t", message: "m", workspaceId: "ws-1" }), { DOMAIN_ADMIN: "allowed", WORKSPACE_OWNER: "allowed", WORKSPACE_MEMBER: "denied" }],
];

const roles: Role[] = ["DOMAIN_ADMIN", "WORKSPACE_OWNER", "WORKSPACE_MEMBER"];

describe("role matrix", () => {
  it.each(matrix.flatMap(([service, rpc, kind, call, outcomes]) => roles.map((role) => ({ service, rpc, kind, call, role, outcome: outcomes[role] }))))(
    "$service $rpc ($kind) as $role: $outcome",
    async ({ call, role, outcome }) => {
      const result = await call(as[role]!).then(
        () => "allowed" as const,
        (err) => {
          const code = ConnectError.from(err).code;
          if (code === Code.PermissionDenied) return "denied" as const;
          throw err; // anything else is a failure of the test, not a verdict
        },
      );
      expect(result).toBe(outcome);
    },
  );

  it.each(matrix.filter(([service]) => service === "orchestration").map(([service, rpc, , call]) => ({ service, rpc, call })))(
    "$service $rpc as a user without any role: PERMISSION_DENIED",
    async ({ call }) => {
      const err = await call(noRole).catch((e) => ConnectError.from(e));
      expect(err).toBeInstanceOf(ConnectError);
      expect((err as ConnectError).code).toBe(Code.PermissionDenied);
    },
  );

  it.each(matrix.map(([service, rpc, , call]) => ({ service, rpc, call })))("$service $rpc without a token: UNAUTHENTICATED", async ({ call }) => {
    const err = await call({ domainId: "domain-default", userId: "nobody", token: "" }).catch((e) => ConnectError.from(e));
    expect(err).toBeInstanceOf(ConnectError);
    expect((err as ConnectError).code).toBe(Code.Unauthenticated);
  });
});
