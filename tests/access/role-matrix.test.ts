// Each role against a representative read and write RPC of every service that has landed.
import { Code, ConnectError } from "@connectrpc/connect";
import { cloudServiceModule } from "@cloudforet/cloud-service";
import { costModule } from "@cloudforet/cost";
import { inventoryModule } from "@cloudforet/inventory";
import { monitoringModule } from "@cloudforet/monitoring";
import { notificationModule } from "@cloudforet/notification";
import { CloudServiceService } from "@cloudforet/proto/cloudforet/cloud_service/v1/cloud_service_pb";
import { CostService } from "@cloudforet/proto/cloudforet/cost/v1/cost_pb";
import { DataSourceService } from "@cloudforet/proto/cloudforet/cost/v1/data_source_pb";
import { CollectorService } from "@cloudforet/proto/cloudforet/inventory/v1/collector_pb";
import { MetricService } from "@cloudforet/proto/cloudforet/monitoring/v1/metric_pb";
import { CloudServiceTypeService } from "@cloudforet/proto/cloudforet/cloud_service/v1/cloud_service_type_pb";
import { ProjectService } from "@cloudforet/proto/cloudforet/identity/v1/project_pb";
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

beforeAll(async () => {
  platform = await startTestPlatform({ modules: [cloudServiceModule, inventoryModule, costModule, monitoringModule, notificationModule] });
  as.DOMAIN_ADMIN = platform.admin;
  await platform.client(WorkspaceService).create({ workspaceId: "ws-1", name: "ws-1" });
  as.WORKSPACE_OWNER = await platform.createWorkspaceUser(platform.admin, "owner-1", "WORKSPACE_OWNER", "ws-1");
  as.WORKSPACE_MEMBER = await platform.createWorkspaceUser(platform.admin, "member-1", "WORKSPACE_MEMBER", "ws-1");
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
  ["identity", "SecretService.List", "read", (who) => platform.client(SecretService, who).list({}), { DOMAIN_ADMIN: "allowed", WORKSPACE_OWNER: "allowed", WORKSPACE_MEMBER: "allowed" }],
  ["cloud-service", "CloudServiceTypeService.List", "read", (who) => platform.client(CloudServiceTypeService, who).list({}), { DOMAIN_ADMIN: "allowed", WORKSPACE_OWNER: "allowed", WORKSPACE_MEMBER: "allowed" }],
  ["cloud-service", "CloudServiceTypeService.Create", "write", (who) => platform.client(CloudServiceTypeService, who).create({ key: `compute.${unique("T")}`, provider: "nutanix" }), { DOMAIN_ADMIN: "allowed", WORKSPACE_OWNER: "denied", WORKSPACE_MEMBER: "denied" }],
  ["cloud-service", "CloudServiceService.List", "read", (who) => platform.client(CloudServiceService, who).list({}), { DOMAIN_ADMIN: "allowed", WORKSPACE_OWNER: "allowed", WORKSPACE_MEMBER: "allowed" }],
  ["inventory", "CollectorService.List", "read", (who) => platform.client(CollectorService, who).list({}), { DOMAIN_ADMIN: "allowed", WORKSPACE_OWNER: "allowed", WORKSPACE_MEMBER: "allowed" }],
  ["inventory", "CollectorService.Create", "write", (who) => platform.client(CollectorService, who).create({ collectorId: unique("collector"), name: "c", provider: "nutanix", workspaceId: "ws-1" }), { DOMAIN_ADMIN: "allowed", WORKSPACE_OWNER: "allowed", WORKSPACE_MEMBER: "denied" }],
  ["cost", "CostService.List", "read", (who) => platform.client(CostService, who).list({}), { DOMAIN_ADMIN: "allowed", WORKSPACE_OWNER: "allowed", WORKSPACE_MEMBER: "allowed" }],
  ["cost", "DataSourceService.Create", "write", (who) => platform.client(DataSourceService, who).create({ dataSourceId: unique("ds"), name: "d", provider: "nutanix" }), { DOMAIN_ADMIN: "allowed", WORKSPACE_OWNER: "denied", WORKSPACE_MEMBER: "denied" }],
  ["monitoring", "MetricService.Query", "read", (who) => platform.client(MetricService, who).query({}), { DOMAIN_ADMIN: "allowed", WORKSPACE_OWNER: "allowed", WORKSPACE_MEMBER: "allowed" }],
  // Metrics carry no workspace: every member of the domain may push them (collectors run as members).
  ["monitoring", "MetricService.Push", "write", (who) => platform.client(MetricService, who).push({ resourceId: "vm-1", metricName: "cpu.utilization", value: 1 }), { DOMAIN_ADMIN: "allowed", WORKSPACE_OWNER: "allowed", WORKSPACE_MEMBER: "allowed" }],
  ["notification", "NotificationService.List", "read", (who) => platform.client(NotificationService, who).list({}), { DOMAIN_ADMIN: "allowed", WORKSPACE_OWNER: "allowed", WORKSPACE_MEMBER: "allowed" }],
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

  it.each(matrix.map(([service, rpc, , call]) => ({ service, rpc, call })))("$service $rpc without a token: UNAUTHENTICATED", async ({ call }) => {
    const err = await call({ domainId: "domain-default", userId: "nobody", token: "" }).catch((e) => ConnectError.from(e));
    expect(err).toBeInstanceOf(ConnectError);
    expect((err as ConnectError).code).toBe(Code.Unauthenticated);
  });
});
