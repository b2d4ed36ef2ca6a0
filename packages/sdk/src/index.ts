export { Client } from "./client";
export { SERVICE_PORTS, optionsFromEnv, serviceUrl, type ClientOptions, type ServiceName } from "./config";
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
export type { RequestOptions, ServiceCaller } from "./rpc";
export { Session } from "./session";
export * from "./managers/identity";
export * from "./managers/inventory";
export * from "./managers/cloud-service";
export * from "./managers/cost";
export * from "./managers/monitoring";
export * from "./managers/notification";
export * from "./managers/orchestration";
