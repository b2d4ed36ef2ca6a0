export { Client } from "./client";
export { SERVICE_PORTS, serviceUrl, type ClientOptions, type ClientRetryOptions, type ServiceName } from "./config";
export {
  APIError,
  AuthenticationError,
  PermissionDeniedError,
  NotFoundError,
  ValidationError,
  ConflictError,
  RateLimitError,
  ServerError,
  ConnectionError,
  TimeoutError,
  toAPIError,
  type APIErrorJSON,
  type APIErrorInit,
} from "./errors";
export { Handle, type HandleOps } from "./handle";
export { Pager, toQuery, DEFAULT_PAGE_SIZE, type ListQuery, type FilterInput, type Page } from "./pager";
export type { RequestOptions, ResponseInfo, ServiceCaller } from "./rpc";
export { withResponse } from "./with-response";
export { Session } from "./session";
export * from "./managers/identity";
export * from "./managers/inventory";
export * from "./managers/cloud-service";
export * from "./managers/change-history";
export * from "./managers/collector-rules";
export * from "./managers/cost";
export * from "./managers/budgets";
export * from "./managers/monitoring";
export * from "./managers/alerting";
export * from "./managers/notification";
export * from "./managers/orchestration";
export * from "./managers/request-logs";
export * from "./managers/plugins";
