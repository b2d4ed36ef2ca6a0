export {
  definePlugin,
  cloudService,
  cloudServiceType,
  itemFailure,
  type CollectorPlugin,
  type CollectRequest,
  type CollectedItem,
  type CloudServiceResource,
  type CloudServiceTypeResource,
} from "./plugin";
export { servePlugin, type ServePluginOptions, type ServedPlugin } from "./serve-plugin";
export { PLUGIN_ERROR_DOMAIN } from "./collector-service";
// The errors a plugin throws to report a failure with its SPEC §3 code.
export { PlatformError, authenticateFailure, invalidParameter, permissionDenied, serviceUnavailable } from "@cloudforet/errors";
