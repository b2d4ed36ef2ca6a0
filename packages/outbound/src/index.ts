export { OutboundPolicy, DEFAULT_MAX_RESPONSE_BYTES, DEFAULT_TIMEOUT_MS, type OutboundPolicyOptions, type HostResolver } from "./outbound-policy";
export { outboundRequest, type OutboundRequest, type OutboundResponse } from "./outbound-request";
export { OutboundError, isOutboundError, type OutboundErrorKind } from "./outbound-error";
export { isForbiddenAddress, normalizeAddress, embeddedIpv4 } from "./address-ranges";
export { redactUrl, redactUrlsIn } from "./redact-url";
export { guardedConnection } from "./guarded-connection";
