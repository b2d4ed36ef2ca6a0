import { randomUUID } from "node:crypto";
import type { DescService } from "@bufbuild/protobuf";
import type { ConnectRouter, Interceptor } from "@connectrpc/connect";
import { migrate, openDatabase, type Database, type DatabaseHandle } from "@cloudforet/db";
import { OutboxRelay, openEventBus, type EventBus, type OutboxTable } from "@cloudforet/events";
import type { Logger } from "pino";
import { ConfigError, logLevelOrDefault, readServiceConfig, type ServiceConfig } from "./config";
import type { HttpHandler } from "./http-endpoints";
import type { JWTVerifyGetKey } from "jose";
import { authenticateFailure } from "@cloudforet/errors";
import { authInterceptor, awaitReplay, bearerToken, createTokenVerifier, remoteKeys, RevocationList, type TokenVerifier } from "./auth";
import type { Caller } from "./caller";
import { createLogger } from "./logger";
import { inputGuardInterceptor } from "./input-guard";
import { requestLogInterceptor } from "./request-logging";
import { startServer, type RunningServer } from "./server";
import { authenticationGate } from "./auth-gate";
import { installLastResortHandlers } from "./last-resort";
import { installTracing } from "./tracing";

/** What a service package exports so that one call can run it (alone or with the others). */
export interface ServiceModule {
  /** "cloud-service": names its env vars (CLOUD_SERVICE_ADDR) and logs. */
  name: string;
  /** "cloudforet.cloud_service.v1": the ErrorInfo domain. */
  domain: string;
  defaultPort: number;
  /** Its Postgres schema ("cloud_service"), which also holds its migrations table. */
  schema: string;
  /** Its drizzle-kit migrations folder. */
  migrationsFolder: string;
  /** Its transactional outbox, relayed to the bus by the host. */
  outbox?: OutboxTable;
  /** Its statements find rows by key: Postgres may plan them once for all values (openDatabase `genericPlans`). */
  genericPlans?: boolean;
  create(context: ServiceContext): ServiceInstance | Promise<ServiceInstance>;
}

export interface ServiceContext {
  config: ServiceConfig;
  logger: Logger;
  db: Database;
  bus: EventBus;
  /** Publishes committed outbox rows now instead of at the next poll. */
  kickOutbox(): void;
  /** Verifies an `Authorization` header value (for plain-HTTP APIs); UNAUTHENTICATED when it fails. */
  authenticate(authorization: string | null | undefined): Promise<Caller>;
  /** The environment the service was started with (its own settings, other services' `<SERVICE>_URL`). */
  env: NodeJS.ProcessEnv;
}

export interface ServiceInstance {
  services: DescService[];
  routes(router: ConnectRouter): void;
  interceptors?: Interceptor[];
  http?: HttpHandler;
  /** Stops the service's background work (consumers, schedulers). */
  close?(): Promise<void>;
  /** Keys to verify tokens with, for the service that signs them; others fetch identity's JWKS. */
  verificationKeys?: JWTVerifyGetKey;
}

export interface RunningService {
  name: string;
  url: string;
  server: RunningServer;
  /** Graceful stop: drain calls, stop background work, flush the outbox, close bus and database. */
  close(): Promise<void>;
}

/**
 * Starts one service: reads and validates its config, opens its database (Postgres or the shared
 * embedded PGlite) and migrates its schema, connects its bus (JetStream or in-process), starts
 * the outbox relay, builds its handlers and serves them on its port.
 */
export async function startService(module: ServiceModule, env: NodeJS.ProcessEnv = process.env, configOverride: Partial<ServiceConfig> = {}): Promise<RunningService> {
  const config = { ...readServiceConfig(module.name, module.defaultPort, env), ...configOverride };
  const logger = createLogger(module.name, config.logLevel);
  // Before anything that makes spans (database, bus, clients, server); undefined without an OTLP endpoint.
  const tracing = installTracing(module.name, env, logger);
  const database: DatabaseHandle = await openDatabase({
    url: config.databaseUrl,
    dataDir: `${config.dataDir}/pglite`,
    schema: module.schema,
    poolSize: config.databasePoolSize,
    idleTimeoutSeconds: config.databaseIdleSeconds,
    preparedStatements: config.databasePreparedStatements,
    genericPlans: module.genericPlans,
    logger,
  }).catch(async (err: unknown) => {
    await tracing?.shutdown();
    throw err;
  });
  // Last step of a stop: flush the spans of everything that ran before it.
  const cleanup: Array<() => Promise<void>> = [() => database.close(), ...(tracing ? [() => tracing.shutdown()] : [])];
  try {
    await migrate(database, { migrationsFolder: module.migrationsFolder, schema: module.schema, logger });
    const bus = await openEventBus({ url: config.natsUrl, logger, env });
    cleanup.unshift(() => bus.close());
    const relay = module.outbox ? new OutboxRelay({ db: database.db, outbox: module.outbox, bus, logger }) : undefined;
    relay?.start();
    if (relay) cleanup.unshift(async () => void (await relay.stop()));
    const revocations = new RevocationList();
    let verify: TokenVerifier | undefined;
    const authenticate = async (authorization: string | null | undefined) => {
      const token = bearerToken(authorization);
      if (!token || !verify) throw authenticateFailure("Authentication required: send Authorization: Bearer <token>");
      return verify(token);
    };
    const instance = await module.create({ config, logger, db: database.db, bus, kickOutbox: () => relay?.kick(), authenticate, env });
    if (instance.close) cleanup.unshift(() => instance.close!());
    verify = createTokenVerifier(instance.verificationKeys ?? remoteKeys(env.IDENTITY_URL ?? "http://127.0.0.1:50051"), revocations);
    const revocationFeed = await revocations.follow(bus, `auth-revocations-${module.name}-${randomUUID().slice(0, 8)}`, logger);
    cleanup.unshift(() => revocationFeed.close());
    // Serve only once identity's past revocations apply here too, or this replica would accept tokens the others refuse.
    await awaitReplay(revocationFeed, logger);
    const server = await startServer({
      name: module.name,
      domain: module.domain,
      host: config.host,
      port: config.port,
      services: instance.services,
      routes: (router) => instance.routes(router),
      // Bad input (NUL, lone surrogates, deep JSON, extreme times) is INVALID_ARGUMENT here, for every service.
      // Request logging runs inside the input guard: a body the guard refuses is neither recorded nor stored.
      interceptors: [
        authInterceptor(verify),
        inputGuardInterceptor(),
        requestLogInterceptor({ service: module.name, switches: revocations.requestLogging, bus, logger }),
        ...(instance.interceptors ?? []),
      ],
      http: instance.http,
      logger,
      // A call without a valid token is refused before its body is read; the caller it verified is the call's.
      authenticate: authenticationGate(() => verify),
      maxRequestBytes: config.maxRequestBytes,
      maxConcurrentStreams: config.maxConcurrentStreams,
      headersTimeoutMs: config.headersTimeoutMs,
      bodyTimeoutMs: config.bodyTimeoutMs,
      idleTimeoutMs: config.idleTimeoutMs,
      trustedProxies: config.trustedProxies,
      readiness: { postgres: () => database.ping(), ...(config.natsUrl ? { nats: () => busReady(bus) } : {}), access_changes: async () => revocations.assertReplayed() },
    });
    let closing: Promise<void> | undefined;
    return {
      name: module.name,
      url: server.url,
      server,
      close() {
        closing ??= (async () => {
          await server.close(config.shutdownGraceMs);
          for (const step of cleanup) await step().catch((err) => logger.warn({ err }, "shutdown step failed"));
          logger.info("stopped");
        })();
        return closing;
      },
    };
  } catch (err) {
    for (const step of cleanup) await step().catch(() => {});
    throw err;
  }
}

async function busReady(bus: EventBus): Promise<void> {
  if (!bus.isConnected()) throw new Error("not connected to NATS");
}

/**
 * Runs services until SIGTERM/SIGINT, then stops them gracefully and exits 0 (1 when the stop
 * took longer than `hardLimitMs`). Used by each service's main.ts and by the embedded platform.
 */
export function stopOnSignals(services: RunningService[], logger: Logger, hardLimitMs = 10_000): void {
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, "shutting down");
    const timer = setTimeout(() => {
      logger.error("shutdown took too long; exiting");
      process.exit(1);
    }, hardLimitMs);
    timer.unref();
    await Promise.all(services.map((s) => s.close()));
    clearTimeout(timer);
    process.exit(0);
  };
  process.once("SIGTERM", () => void stop("SIGTERM"));
  process.once("SIGINT", () => void stop("SIGINT"));
}

/**
 * A service process's whole main: start, stop gracefully on SIGTERM/SIGINT, log (and survive) an
 * exception nothing caught, and on a start-up failure (bad configuration, unreachable database)
 * print one clear line and exit 1.
 */
export async function runServiceMain(module: ServiceModule, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const logger = createLogger(module.name, logLevelOrDefault(env));
  // An exception no handler caught is logged, and the service keeps serving.
  installLastResortHandlers(logger);
  try {
    stopOnSignals([await startService(module, env)], logger);
  } catch (err) {
    if (err instanceof ConfigError) logger.fatal({ problems: err.problems }, `${module.name} cannot start: ${err.message}`);
    else logger.fatal({ err }, `${module.name} failed to start`);
    process.exit(1);
  }
}
