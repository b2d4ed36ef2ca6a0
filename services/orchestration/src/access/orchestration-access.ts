import type { DescService } from "@bufbuild/protobuf";
import { permissionDenied } from "@cloudforet/errors";
import type { Caller } from "@cloudforet/runtime";

/**
 * Who may do what in orchestration. Its entities carry no workspace (a tenant is a name inside the
 * caller's domain), so the levels follow the roles alone:
 * - read: any role in the domain (DOMAIN_ADMIN, or WORKSPACE_OWNER / WORKSPACE_MEMBER of any workspace);
 * - write: DOMAIN_ADMIN or WORKSPACE_OWNER of any workspace;
 * - admin: DOMAIN_ADMIN only (schedules, triggers, rate limits, recurrent requests, DLQ, tenant-wide changes).
 * API keys log in as their user and carry that user's roles, so a worker holding an owner's key keeps working.
 */
export type AccessLevel = "read" | "write" | "admin";

/**
 * Operations of the engine features beyond seed 002 (webhooks, event streams, execution trees,
 * approvals, circuit breakers, cluster nodes, sessions, credentials): REST only, no RPC carries
 * these names (services/orchestration/README.md, "Engine features beyond seed 002").
 */
export const engineFeatureLevels = {
  "InstanceService.GetTree": "read",
  "InstanceService.Stream": "read",
  "ApprovalService.List": "read",
  // Answering a review is a signal to the instance.
  "ApprovalService.Decide": "write",
  "WebhookService.List": "read",
  "WebhookService.Get": "read",
  "WebhookService.ListDeliveries": "read",
  "WebhookService.Create": "admin",
  "WebhookService.Update": "admin",
  "WebhookService.Delete": "admin",
  "WebhookService.Redeliver": "admin",
  "CircuitBreakerService.List": "read",
  "CircuitBreakerService.Get": "read",
  "CircuitBreakerService.Reset": "admin",
  "ClusterService.ListNodes": "admin",
  "ClusterService.DrainNode": "admin",
  "SessionService.List": "read",
  "SessionService.Get": "read",
  "SessionService.GetByKey": "read",
  "SessionService.ListInstances": "read",
  "SessionService.Create": "write",
  "SessionService.UpdateData": "write",
  "SessionService.UpdateState": "write",
  // Credentials are metadata on read (never the secret); only an admin writes them.
  "CredentialService.List": "read",
  "CredentialService.Get": "read",
  "CredentialService.Create": "admin",
  "CredentialService.Update": "admin",
  "CredentialService.Delete": "admin",
} as const satisfies Record<string, AccessLevel>;

/**
 * Every operation of both front doors, named as its gRPC method (`Service.Method`). The REST routes
 * name the same operation, so one row decides a route and its RPC alike. An RPC missing here is
 * refused at start-up (see guardService), never served unguarded.
 */
export const operationLevels = {
  "SequenceService.Create": "write",
  "SequenceService.Get": "read",
  "SequenceService.GetByName": "read",

  "InstanceService.Create": "write",
  "InstanceService.BatchCreate": "write",
  "InstanceService.Get": "read",
  "InstanceService.List": "read",
  "InstanceService.Watch": "read",
  "InstanceService.GetOutputs": "read",
  "InstanceService.UpdateState": "write",
  "InstanceService.UpdateContext": "write",
  "InstanceService.SendSignal": "write",
  "InstanceService.Retry": "write",
  "InstanceService.BulkUpdateState": "admin",
  "InstanceService.ListDlq": "admin",

  "WorkerService.PollTasks": "write",
  "WorkerService.CompleteTask": "write",
  "WorkerService.FailTask": "write",
  "WorkerService.HeartbeatTask": "write",

  "CronService.Get": "read",
  "CronService.List": "read",
  "CronService.Create": "admin",
  "CronService.Update": "admin",
  "CronService.Delete": "admin",

  "TriggerService.Get": "read",
  "TriggerService.List": "read",
  // Firing starts an instance, as InstanceService.Create does.
  "TriggerService.Fire": "write",
  "TriggerService.Create": "admin",
  "TriggerService.Update": "admin",
  "TriggerService.Delete": "admin",

  "RateLimitService.Get": "read",
  "RateLimitService.List": "read",
  "RateLimitService.Set": "admin",
  "RateLimitService.Delete": "admin",

  "RecurrentRequestService.Get": "read",
  "RecurrentRequestService.List": "read",
  "RecurrentRequestService.Create": "admin",
  "RecurrentRequestService.Update": "admin",
  // Runs with the credential sealed by whoever created it, so only an admin may fire it by hand.
  "RecurrentRequestService.Trigger": "admin",
  "RecurrentRequestService.Delete": "admin",

  // Which Orch8 tenants an API key may act in (REST only: /tenant-grants).
  "TenantGrantService.List": "admin",
  "TenantGrantService.Set": "admin",
  "TenantGrantService.Delete": "admin",

  ...engineFeatureLevels,
} as const satisfies Record<string, AccessLevel>;

export type Operation = keyof typeof operationLevels;

export function isOperation(name: string): name is Operation {
  return Object.hasOwn(operationLevels, name);
}

export function mayPerform(caller: Caller, level: AccessLevel): boolean {
  if (caller.domainAdmin) return true;
  if (level === "admin") return false;
  if (level === "write") return caller.roles.some((binding) => binding.role === "WORKSPACE_OWNER");
  return caller.roles.some((binding) => binding.role === "WORKSPACE_OWNER" || binding.role === "WORKSPACE_MEMBER");
}

const requiredRoles: Record<AccessLevel, string> = {
  read: "any role in the domain",
  write: "DOMAIN_ADMIN or WORKSPACE_OWNER",
  admin: "DOMAIN_ADMIN",
};

/** ERROR_PERMISSION_DENIED unless the caller's roles allow `operation`. */
export function requireOperation(caller: Caller, operation: Operation): void {
  const level = operationLevels[operation];
  if (!mayPerform(caller, level)) {
    throw permissionDenied(`${operation} requires ${requiredRoles[level]}`, { operation, level, domain_id: caller.domainId });
  }
}

/** The table's name of an RPC: `InstanceService.UpdateContext` for cloudforet.orchestration.v1.InstanceService/UpdateContext. */
export function operationOf(service: DescService, methodName: string): string {
  return `${service.name}.${methodName}`;
}
