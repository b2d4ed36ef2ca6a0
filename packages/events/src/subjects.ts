// Every subject a service publishes today, once: publishers and consumers import these instead of
// spelling `cloudforet.<service>.<entity>.<event>` themselves, so a renamed subject cannot leave a
// consumer listening to nothing. (Payloads: proto/cloudforet/<service>/v1/events.proto where typed.)

export const identitySubjects = {
  domainCreated: "cloudforet.identity.domain.created",
  domainDeleted: "cloudforet.identity.domain.deleted",
  userCreated: "cloudforet.identity.user.created",
  userUpdated: "cloudforet.identity.user.updated",
  userDisabled: "cloudforet.identity.user.disabled",
  userEnabled: "cloudforet.identity.user.enabled",
  userDeleted: "cloudforet.identity.user.deleted",
  userPasswordChanged: "cloudforet.identity.user.password_changed",
  userRoleBindingAdded: "cloudforet.identity.user.role_binding_added",
  userRoleBindingRemoved: "cloudforet.identity.user.role_binding_removed",
  userRolesChanged: "cloudforet.identity.user.roles_changed",
  apiKeyCreated: "cloudforet.identity.api_key.created",
  apiKeyRevoked: "cloudforet.identity.api_key.revoked",
  projectCreated: "cloudforet.identity.project.created",
  projectUpdated: "cloudforet.identity.project.updated",
  projectDeleted: "cloudforet.identity.project.deleted",
  workspaceCreated: "cloudforet.identity.workspace.created",
  workspaceUpdated: "cloudforet.identity.workspace.updated",
  workspaceDeleted: "cloudforet.identity.workspace.deleted",
  secretCreated: "cloudforet.identity.secret.created",
  secretUpdated: "cloudforet.identity.secret.updated",
  secretDeleted: "cloudforet.identity.secret.deleted",
  serviceAccountCreated: "cloudforet.identity.service_account.created",
  serviceAccountUpdated: "cloudforet.identity.service_account.updated",
  serviceAccountDeleted: "cloudforet.identity.service_account.deleted",
  /** A caller's request logging switch changed. Data: {domain_id, caller_type: "USER" | "API_KEY", caller_id, enabled, mode, at}. */
  requestLoggingChanged: "cloudforet.identity.request_logging.changed",
} as const;

/**
 * One recorded call of a caller with request logging on, from any service to identity's store.
 * Outside `cloudforet.identity.>` on purpose: every service follows those, and must not receive these.
 */
export const requestLogSubjects = {
  callRecorded: "cloudforet.request_log.call.recorded",
} as const;

export const inventorySubjects = {
  collectorCreated: "cloudforet.inventory.collector.created",
  collectorUpdated: "cloudforet.inventory.collector.updated",
  collectorDeleted: "cloudforet.inventory.collector.deleted",
  /** Data: JobEvent (proto/cloudforet/inventory/v1/events.proto). */
  jobCreated: "cloudforet.inventory.job.created",
  jobStarted: "cloudforet.inventory.job.started",
  /** Every final status (FINISHED, FAILURE, CANCELED, TIMEOUT): the data's `status` says which. */
  jobFinished: "cloudforet.inventory.job.finished",
  /** Data: JobEvent with the task fields. */
  jobTaskCreated: "cloudforet.inventory.job_task.created",
  jobTaskProgressed: "cloudforet.inventory.job_task.progressed",
  jobTaskUpdated: "cloudforet.inventory.job_task.updated",
  jobTaskCompleted: "cloudforet.inventory.job_task.completed",
  /** Every job event (a subscription pattern). */
  everyJobEvent: "cloudforet.inventory.job.>",
  /** Every job-task event (a subscription pattern). */
  everyJobTaskEvent: "cloudforet.inventory.job_task.>",
} as const;

export const cloudServiceSubjects = {
  cloudServiceTypeCreated: "cloudforet.cloud_service.cloud_service_type.created",
  cloudServiceTypeDeleted: "cloudforet.cloud_service.cloud_service_type.deleted",
  /** A completed collection task's stale resources were disconnected. */
  cloudServiceSwept: "cloudforet.cloud_service.cloud_service.swept",
} as const;

export const costSubjects = {
  dataSourceCreated: "cloudforet.cost.data_source.created",
  dataSourceDeleted: "cloudforet.cost.data_source.deleted",
  costBatchCreated: "cloudforet.cost.cost_batch.created",
  /** A budget threshold reached, once per budget period. Data: {budget_id, name, workspace_id, period, threshold, severity, currency, usage, limit, usage_percent, forecast} (amounts as decimal text). */
  budgetThresholdReached: "cloudforet.cost.budget.threshold_reached",
} as const;

export const monitoringSubjects = {
  /** Data: AlertNoticeEvent (proto/cloudforet/monitoring/v1/alert_events.proto): one notification an alert asks for. */
  alertNotice: "cloudforet.monitoring.alert.notice",
} as const;

export const notificationSubjects = {
  channelCreated: "cloudforet.notification.channel.created",
  channelDeleted: "cloudforet.notification.channel.deleted",
  notificationCreated: "cloudforet.notification.notification.created",
} as const;

export const orchestrationSubjects = {
  instanceWakeup: "cloudforet.orchestration.instance.wakeup",
  instanceStateChanged: "cloudforet.orchestration.instance.state_changed",
  instanceWatching: "cloudforet.orchestration.instance.watching",
  workerTaskReady: "cloudforet.orchestration.worker_task.ready",
} as const;
