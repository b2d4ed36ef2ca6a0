export { testDatabaseUrl, testNatsUrl, uniqueSuffix } from "./environment";
export { createTestSchema, type TestSchema } from "./test-schema";
export { requirePostgres, requireNats, connectTestNats, TestBackendUnavailableError } from "./reachability";
export { createTestStream, type TestStream } from "./test-stream";
export { startTcpProxy, type TcpProxy } from "./tcp-proxy";
export { grpcJsClient, grpcJsUnary } from "./grpc-js-client";
export { copyMigrationsForSchema, type MigrationsCopy } from "./migrations-copy";
export { waitFor } from "./wait-for";
export { createTestDatabase, type TestDatabase } from "./test-database";
