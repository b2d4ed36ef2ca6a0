import type { JsonObject } from "@bufbuild/protobuf";

/** What `collect` receives for one job task (a service account's collection). */
export interface CollectRequest {
  /** The collector's plugin options. */
  options: JsonObject;
  /** The decrypted secret of the service account (SecretService.GetData `data`). */
  secretData: JsonObject;
  /** The job's options plus service_account_id, job_id, job_task_id and service_account_data. */
  taskOptions: JsonObject;
  /** Aborts when inventory cancels the collection or the call's deadline passes. */
  signal: AbortSignal;
}

/** A resource as a plugin reports it: the fields of CloudServiceService.Upsert, snake_case. */
export interface CloudServiceResource {
  cloud_service_type: string;
  cloud_service_group?: string;
  cloud_service_name: string;
  provider?: string;
  account?: string;
  data?: JsonObject;
  tags?: Record<string, string>;
  reference?: { resource_id?: string; external_link?: string };
  project_id?: string;
}

/** A resource type to register when missing (CloudServiceTypeService.Create fields). */
export interface CloudServiceTypeResource {
  key?: string;
  group?: string;
  name?: string;
  provider?: string;
  metadata?: JsonObject;
}

/** One item of a collection, as `collect` yields it (see the `cloudService`, `cloudServiceType` and `itemFailure` helpers). */
export type CollectedItem =
  | { kind: "cloud_service"; resource: CloudServiceResource; matchRules?: string[][] }
  | { kind: "cloud_service_type"; resource: CloudServiceTypeResource }
  | { kind: "failure"; message: string; resource?: Partial<CloudServiceResource> };

/**
 * A collector plugin: three functions. Throw a PlatformError from @cloudforet/errors (e.g.
 * `authenticateFailure` for rejected credentials, `invalidParameter` for bad options) to report a
 * failure with its SPEC §3 code; any other error is reported as ERROR_UNKNOWN with its message.
 */
export interface CollectorPlugin {
  /** Validates the options and describes the plugin; the answer is stored as the collector's metadata. */
  init(options: JsonObject): Promise<JsonObject> | JsonObject;
  /** Checks that the credentials reach the provider; returns normally when they do. */
  verify(options: JsonObject, secretData: JsonObject): Promise<void> | void;
  /** Yields the account's resources as they are found. Throwing ends the collection as failed. */
  collect(request: CollectRequest): AsyncIterable<CollectedItem>;
}

/** Identity function that gives a plugin object its type (and editor help). */
export function definePlugin(plugin: CollectorPlugin): CollectorPlugin {
  return plugin;
}

/** A cloud service to upsert; `matchRules` defaults to reference.resource_id + provider + cloud_service_type. */
export function cloudService(resource: CloudServiceResource, matchRules?: string[][]): CollectedItem {
  return { kind: "cloud_service", resource, ...(matchRules ? { matchRules } : {}) };
}

export function cloudServiceType(resource: CloudServiceTypeResource): CollectedItem {
  return { kind: "cloud_service_type", resource };
}

/** One item that could not be collected; the collection goes on and counts it as an error. */
export function itemFailure(message: string, resource?: Partial<CloudServiceResource>): CollectedItem {
  return { kind: "failure", message, ...(resource ? { resource } : {}) };
}
