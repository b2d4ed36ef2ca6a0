export { RequestLoggingSwitches, callerSwitch, switchKey, type RequestLogMode, type LoggingCallerType } from "./logging-switches";
export { requestLogInterceptor, TRUNCATED_BODY_BYTES, type RequestLogRecordData, type RequestLogInterceptorOptions } from "./request-log-interceptor";
export { redactBody, REDACTED } from "./redact-body";
