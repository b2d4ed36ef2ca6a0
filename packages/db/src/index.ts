export type { Database, DatabaseExecutor, DatabaseKind, Transaction } from "./database";
export {
  openDatabase,
  DEFAULT_PGLITE_DATA_DIR,
  type OpenDatabaseOptions,
  type DatabaseHandle,
} from "./open-database";
export { migrate, DEFAULT_MIGRATIONS_TABLE, type MigrateOptions, type MigrateResult } from "./migrate";
export { migrationLockName } from "./migration-lock";
export { defineServiceSchema } from "./service-schema";
export { queryRows } from "./query-rows";
export { statementTemplate, type StatementTemplate } from "./statement-template";
export { isUniqueViolation, isConnectionError, sqlState, violatedConstraint, UNIQUE_VIOLATION } from "./db-errors";
export { pgliteReferenceCount } from "./pglite-registry";
export {
  notificationsOf,
  notify,
  MAX_CHANNEL_BYTES,
  type Notifications,
  type NotificationListener,
  type ChannelSubscription,
} from "./notifications";
