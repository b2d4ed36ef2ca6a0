import { CloudServiceService } from "@cloudforet/proto/cloudforet/cloud_service/v1/cloud_service_pb";
import { CloudServiceTypeService } from "@cloudforet/proto/cloudforet/cloud_service/v1/cloud_service_type_pb";
import { CostService } from "@cloudforet/proto/cloudforet/cost/v1/cost_pb";
import { DataSourceService } from "@cloudforet/proto/cloudforet/cost/v1/data_source_pb";
import { ApiKeyService } from "@cloudforet/proto/cloudforet/identity/v1/api_key_pb";
import { ProjectService } from "@cloudforet/proto/cloudforet/identity/v1/project_pb";
import { SecretService } from "@cloudforet/proto/cloudforet/identity/v1/secret_pb";
import { ServiceAccountService } from "@cloudforet/proto/cloudforet/identity/v1/service_account_pb";
import { RoleBinding_Role, UserService } from "@cloudforet/proto/cloudforet/identity/v1/user_pb";
import { WorkspaceService } from "@cloudforet/proto/cloudforet/identity/v1/workspace_pb";
import { CollectorService } from "@cloudforet/proto/cloudforet/inventory/v1/collector_pb";
import { JobService } from "@cloudforet/proto/cloudforet/inventory/v1/job_pb";
import { JobTaskService } from "@cloudforet/proto/cloudforet/inventory/v1/job_task_pb";
import { MetricService } from "@cloudforet/proto/cloudforet/monitoring/v1/metric_pb";
import { Channel_ChannelType, ChannelService } from "@cloudforet/proto/cloudforet/notification/v1/channel_pb";
import { NotificationService } from "@cloudforet/proto/cloudforet/notification/v1/notification_pb";
import { secretCanary } from "@cloudforet/testing";
import type { Identity, TestPlatform } from "../support/platform";

/** The secret value the fixtures store; no table may hold it in plain text (a canary: the secrets sweep looks for it). */
export const FIXTURE_SECRET = secretCanary("fixture_secret");
/** The fixture user's password, a canary too. */
export const FIXTURE_USER_PASSWORD = secretCanary("fixture_user_password");

/** The ids of one object of each kind, by the request field that names it ("workspace_id" → "ws-rel"). */
export type ObjectIds = Record<string, string>;

/**
 * One object of every kind the platform stores, created in `as`'s domain, so tests can aim
 * Get/Update/Delete at real rows. Values are returned by their request field name.
 */
export async function createObjects(platform: TestPlatform, as: Identity, prefix = "rel"): Promise<ObjectIds> {
  const ids: ObjectIds = {};
  const client = <S extends Parameters<TestPlatform["client"]>[0]>(service: S) => platform.client(service, as);
  ids.workspace_id = (await client(WorkspaceService).create({ workspaceId: `ws-${prefix}`, name: "Reliability" })).workspaceId;
  ids.project_id = (await client(ProjectService).create({ projectId: `project-${prefix}`, name: "Reliability", workspaceId: ids.workspace_id })).projectId;
  ids.user_id = (await client(UserService).create({ userId: `user-${prefix}`, password: FIXTURE_USER_PASSWORD, roleBindings: [{ role: RoleBinding_Role.WORKSPACE_OWNER, workspaceId: ids.workspace_id }] })).userId;
  ids.secret_id = (await client(SecretService).create({ name: `secret-${prefix}`, workspaceId: ids.workspace_id, data: { password: FIXTURE_SECRET } })).secretId;
  ids.service_account_id = (
    await client(ServiceAccountService).create({ serviceAccountId: `sa-${prefix}`, name: "Cluster", provider: "nutanix", workspaceId: ids.workspace_id, secretId: ids.secret_id, projectId: ids.project_id })
  ).serviceAccountId;
  ids.api_key_id = (await client(ApiKeyService).create({ userId: ids.user_id, name: `key-${prefix}` })).apiKeyId;
  ids.collector_id = (await client(CollectorService).create({ collectorId: `collector-${prefix}`, name: "Collector", provider: "nutanix", workspaceId: ids.workspace_id })).collectorId;
  ids.job_id = (await client(JobService).create({ collectorId: ids.collector_id, serviceAccountIds: [ids.service_account_id] })).jobId;
  ids.job_task_id = (await client(JobTaskService).create({ jobId: ids.job_id, serviceAccountId: ids.service_account_id })).jobTaskId;
  ids.cloud_service_type_id = (await client(CloudServiceTypeService).create({ key: `compute.Rel${prefix.replace(/[^a-z0-9]/gi, "")}`, provider: "nutanix" })).cloudServiceTypeId;
  ids.cloud_service_id = (
    await client(CloudServiceService).create({
      cloudServiceType: "compute.Instance",
      cloudServiceName: `vm-${prefix}`,
      provider: "nutanix",
      data: { state: "ON" },
      reference: { resourceId: `vm-${prefix}` },
      projectId: ids.project_id,
    })
  ).cloudServiceId;
  ids.resource_id = `vm-${prefix}`;
  ids.data_source_id = (await client(DataSourceService).create({ dataSourceId: `ds-${prefix}`, name: "Costs", provider: "nutanix", workspaceId: ids.workspace_id })).dataSourceId;
  ids.cost_id = (await client(CostService).create({ dataSourceId: ids.data_source_id, date: "2024-01-15", cost: 12.5, resourceId: ids.resource_id })).costId;
  await client(MetricService).push({ resourceId: ids.resource_id, metricName: "cpu.utilization", value: 45.2, unit: "percent" });
  ids.metric_name = "cpu.utilization";
  ids.channel_id = (
    await client(ChannelService).create({ name: `hook-${prefix}`, channelType: Channel_ChannelType.WEBHOOK, options: { url: "http://127.0.0.1:9/hook" }, workspaceId: ids.workspace_id })
  ).channelId;
  ids.notification_id = (await client(NotificationService).send({ title: "Reliability", message: "fixture", channels: [ids.channel_id] })).notificationId;
  return ids;
}
