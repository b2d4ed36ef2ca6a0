export { testDatabaseUrl, testNatsUrl, uniqueSuffix, TEST_OUTBOUND_ALLOW } from "./environment";
export { createTestSchema, type TestSchema } from "./test-schema";
export { requirePostgres, requireNats, connectTestNats, TestBackendUnavailableError } from "./reachability";
export { createTestStream, type TestStream } from "./test-stream";
export { startTcpProxy, type TcpProxy } from "./tcp-proxy";
export { startStatementCounter, type StatementCounter } from "./statement-counter";
export { grpcJsClient, grpcJsUnary } from "./grpc-js-client";
export { copyMigrationsForSchema, type MigrationsCopy } from "./migrations-copy";
export { waitFor } from "./wait-for";
export { createTestDatabase, type TestDatabase } from "./test-database";
export { secretCanary, SECRET_CANARY_PREFIX } from "./secret-canary";
export { findLeaks, scanTables, LEAK_PATTERNS, type Leak, type TableScan } from "./leak-scan";
export { sweepCapture, type SweepSummary } from "./leak-sweep";
export { freePort } from "./free-port";
export { startReplicas, type Replicas, type ReplicaModule, type ReplicaService, type StartService } from "./replicas";
export {
  ServiceProcess,
  startServiceProcess,
  startPlatformProcesses,
  serviceCommand,
  serviceAddrVariable,
  type ServiceProcessOptions,
  type PlatformProcesses,
  type PlatformProcessesOptions,
} from "./service-process";
