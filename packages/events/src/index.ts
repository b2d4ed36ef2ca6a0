export {
  createEvent,
  eventSubject,
  encodeEvent,
  decodeEvent,
  assertValidEvent,
  SUBJECT_ROOT,
  type PlatformEvent,
  type NewEvent,
} from "./event";
export type {
  EventBus,
  EventHandler,
  EventSubscription,
  DeliveryContext,
  PublishResult,
  SubscribeOptions,
  SubscriptionGap,
} from "./event-bus";
export { EventBusError, InvalidEventError, PublishFailedError } from "./event-errors";
export { subjectMatches } from "./subject-pattern";
export { DEFAULT_REDELIVERY, redeliveryDelay, type RedeliveryPolicy } from "./redelivery-policy";
export { JetStreamBus, DEFAULT_STREAM, DEFAULT_STREAM_SUBJECTS, type JetStreamBusOptions } from "./jetstream-bus";
export { InProcessBus, type InProcessBusOptions } from "./in-process-bus";
export { outboxTable, type OutboxTable, type OutboxRow } from "./outbox-table";
export { enqueueEvent, enqueueEvents } from "./enqueue-event";
export { OutboxRelay, OutboxPublishError, type OutboxRelayOptions, type RelayPassResult } from "./outbox-relay";
export {
  processedEventsTable,
  ProcessedEvents,
  type ProcessedEventsTable,
  type ProcessedEventStore,
} from "./processed-events";
export { openEventBus, acquireSharedInProcessBus, type OpenEventBusOptions } from "./open-event-bus";
export {
  identitySubjects,
  inventorySubjects,
  cloudServiceSubjects,
  costSubjects,
  monitoringSubjects,
  notificationSubjects,
  orchestrationSubjects,
  requestLogSubjects,
} from "./subjects";
export type { PayloadJson, SnakeCase } from "./payload-json";
export { setEventTracing, eventTracing, withoutTraceContext, TRACEPARENT_HEADER, type EventTracing } from "./event-tracing";
