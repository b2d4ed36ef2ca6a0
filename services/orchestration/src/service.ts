import { fileURLToPath } from "node:url";
import type { DescService } from "@bufbuild/protobuf";
import type { ServiceImpl } from "@connectrpc/connect";
import { OutboundPolicy } from "@cloudforet/outbound";
import type { ServiceContext, ServiceInstance, ServiceModule } from "@cloudforet/runtime";
import { SequenceService } from "@cloudforet/proto/cloudforet/orchestration/v1/sequence_pb";
import { InstanceService } from "@cloudforet/proto/cloudforet/orchestration/v1/instance_pb";
import { CronService } from "@cloudforet/proto/cloudforet/orchestration/v1/cron_pb";
import { WorkerService } from "@cloudforet/proto/cloudforet/orchestration/v1/worker_pb";
import { TriggerService } from "@cloudforet/proto/cloudforet/orchestration/v1/trigger_pb";
import { RecurrentRequestService } from "@cloudforet/proto/cloudforet/orchestration/v1/recurrent_request_pb";
import { recurrentRequestHandlers } from "./recurrent/handlers";
import { loadCredentialKeyFile } from "./recurrent/credential-sealer";
import { RateLimitService } from "@cloudforet/proto/cloudforet/orchestration/v1/rate_limit_pb";
import { readOrchestrationConfig } from "./config";
import { outbox } from "./db/schema";
import { cronHandlers } from "./cron/handlers";
import { instanceHandlers } from "./instances/handlers";
import { rateLimitHandlers } from "./rate-limits/handlers";
import { sequenceHandlers } from "./sequences/handlers";
import { triggerHandlers } from "./triggers/handlers";
import { workerHandlers } from "./workers/handlers";
import { TenantGrants } from "./access/tenant-grants";
import { guardService } from "./grpc/guard-service";
import { Orchestration } from "./orchestration";
import { restRoutes, type Authenticate, type RestRouteAccess } from "./rest/routes";
export { operationLevels, engineFeatureLevels, type AccessLevel, type Operation } from "./access/orchestration-access";
export type { RestRouteAccess } from "./rest/routes";
import { startRestServer, type RunningRestServer } from "./rest/rest-server";
import { breakerSettingsFromEnv } from "./breakers/breaker-config";
import { nodeHeartbeatMsFromEnv, operatorDomainsFromEnv } from "./cluster/cluster-nodes";

/** Every gRPC service of cloudforet.orchestration.v1 this module serves. */
export const orchestrationServices = [SequenceService, InstanceService, CronService, WorkerService, TriggerService, RateLimitService, RecurrentRequestService] as const;

export interface OrchestrationModuleOptions {
  /** Where ORCHESTRATION_* settings are read (default: the environment given to the service, else process.env). */
  env?: NodeJS.ProcessEnv;
  /** Keys to verify tokens with instead of identity's JWKS (tests sign their own tokens). */
  verificationKeys?: ServiceInstance["verificationKeys"];
  /** The clock cron schedules are evaluated with (tests inject one; default the system clock). */
  clock?: () => Date;
}

export interface OrchestrationModule extends ServiceModule {
  /** The REST API's base URL once started (e.g. http://127.0.0.1:8080). */
  restUrl(): string;
  /** Every REST route and the operation (orchestration-access.ts) it requires, or "public". */
  restRouteAccess(): RestRouteAccess[];
  /** The running domain and engine (for tests and embedding). */
  orchestration(): Orchestration;
}

/**
 * The orchestration service (SPEC §8, seed 002): the engine, its REST API on ORCHESTRATION_HTTP_ADDR
 * and the same operations on its gRPC port: SequenceService, InstanceService (with Watch),
 * CronService, WorkerService, TriggerService, RateLimitService and RecurrentRequestService.
 */
export function createOrchestrationModule(options: OrchestrationModuleOptions = {}): OrchestrationModule {
  let rest: RunningRestServer | undefined;
  let running: Orchestration | undefined;
  let restAccess: RestRouteAccess[] = [];
  return {
    name: "orchestration",
    domain: "cloudforet.orchestration.v1",
    defaultPort: 50057,
    schema: "orchestration",
    migrationsFolder: fileURLToPath(new URL("../drizzle", import.meta.url)),
    outbox,
    // The engine's statements (claims, checkpoints, reports) find rows by key; planning them on
    // every call cost a third of its throughput (bench orchestration 0.42 → 0.27).
    genericPlans: true,
    restUrl() {
      if (!rest) throw new Error("the orchestration REST API is not running");
      return rest.url;
    },
    restRouteAccess() {
      return restAccess;
    },
    orchestration() {
      if (!running) throw new Error("the orchestration service is not running");
      return running;
    },
    async create(context: ServiceContext) {
      const env = options.env ?? (context as { env?: NodeJS.ProcessEnv }).env ?? process.env;
      const config = readOrchestrationConfig(env);
      if (env.ORCHESTRATION_HTTP_ADDR === undefined && context.config.port === 0) {
        // An ephemeral gRPC port (tests) gets an ephemeral REST port rather than a clash on 8080.
        config.httpHost = context.config.host;
        config.httpPort = 0;
      }
      // Recurrent requests' credentials: sealed with ORCHESTRATION_CREDENTIALS_KEYS, else a key file under the data dir.
      const credentialKeys = config.recurrent.credentialKeys ?? (await loadCredentialKeyFile(context.config.dataDir));
      const outbound = OutboundPolicy.fromEnv(env); // CLOUDFORET_OUTBOUND_*, read once at start
      const features = { breakers: breakerSettingsFromEnv(env), nodeHeartbeatMs: nodeHeartbeatMsFromEnv(env), operatorDomains: operatorDomainsFromEnv(env) };
      const orchestration = new Orchestration({ db: context.db, bus: context.bus, logger: context.logger, config, databaseUrl: context.config.databaseUrl, clock: options.clock, credentialKeys, outbound, features });
      const authenticate = (context as { authenticate?: Authenticate }).authenticate;
      const routes = restRoutes(orchestration, context.db, authenticate);
      restAccess = routes.table;
      rest = await startRestServer({
        host: config.httpHost,
        port: config.httpPort,
        router: routes.router,
        logger: context.logger.child({ component: "rest" }),
        maxRequestBytes: config.maxRequestBytes,
        limits: context.config, // the service's own CLOUDFORET_*_TIMEOUT_MS, not this process's env
      });
      context.logger.info({ url: rest.url }, "orchestration REST API listening");
      orchestration.cluster.address = rest.url; // shown in GET /cluster/nodes
      try {
        await orchestration.start();
      } catch (err) {
        await rest.close();
        throw err;
      }
      running = orchestration;
      const services: DescService[] = [...orchestrationServices];
      return {
        services,
        routes(router) {
          // Every service goes through guardService: the role table decides each RPC (orchestration-access.ts).
          const grants = new TenantGrants(context.db);
          const serve = <S extends DescService>(service: S, impl: ServiceImpl<S>) => router.service(service, guardService(service, impl, grants));
          serve(SequenceService, sequenceHandlers(orchestration.sequences));
          serve(InstanceService, instanceHandlers(orchestration.instances, { db: context.db, changes: orchestration.stateChanges, rereadMs: config.watchRereadMs }));
          serve(RecurrentRequestService, recurrentRequestHandlers(orchestration.recurrent));
          serve(WorkerService, workerHandlers(orchestration.workers));
          serve(TriggerService, triggerHandlers(orchestration.triggers));
          serve(CronService, cronHandlers(orchestration.cron));
          serve(RateLimitService, rateLimitHandlers(orchestration.rateLimits));
        },
        ...(options.verificationKeys ? { verificationKeys: options.verificationKeys } : {}),
        async close() {
          await orchestration.close(context.config.shutdownGraceMs);
          await rest?.close();
          rest = undefined;
          running = undefined;
        },
      };
    },
  };
}

export const orchestrationModule = createOrchestrationModule();
