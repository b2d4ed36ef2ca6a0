import { randomUUID } from "node:crypto";
import { fileURLToPath } from "node:url";
import type { ServiceModule } from "@cloudforet/runtime";
import { ApiKeyService } from "@cloudforet/proto/cloudforet/identity/v1/api_key_pb";
import { AuthService } from "@cloudforet/proto/cloudforet/identity/v1/auth_pb";
import { DomainService } from "@cloudforet/proto/cloudforet/identity/v1/domain_pb";
import { ProjectService } from "@cloudforet/proto/cloudforet/identity/v1/project_pb";
import { SecretService } from "@cloudforet/proto/cloudforet/identity/v1/secret_pb";
import { ServiceAccountService } from "@cloudforet/proto/cloudforet/identity/v1/service_account_pb";
import { ServiceIdentityService } from "@cloudforet/proto/cloudforet/identity/v1/service_identity_pb";
import { RequestLogService } from "@cloudforet/proto/cloudforet/identity/v1/request_log_pb";
import { requestLogSubjects } from "@cloudforet/events";
import type { RequestLogRecordData } from "@cloudforet/runtime";
import { UserService } from "@cloudforet/proto/cloudforet/identity/v1/user_pb";
import { WorkspaceService } from "@cloudforet/proto/cloudforet/identity/v1/workspace_pb";
import { apiKeyHandlers } from "./api-keys/handlers";
import { ApiKeyRepository } from "./api-keys/repository";
import { ApiKeyRules } from "./api-keys/api-keys";
import { CallerFacts } from "./auth/caller-facts";
import { currentCallerInterceptor } from "./auth/current-caller";
import { authHandlers } from "./auth/handlers";
import { jwksEndpoint } from "./auth/jwks-endpoint";
import { LoginThrottle } from "./auth/login-throttle";
import { AuthRepository } from "./auth/repository";
import { AuthRules } from "./auth/auth";
import { SigningKeyStore } from "./auth/signing-keys";
import { TokenIssuer } from "./auth/token-issuer";
import { bootstrap } from "./domains/bootstrap";
import { readIdentityConfig } from "./config";
import { SecretKeyring, embeddedSecretKeys } from "./crypto/secret-keyring";
import { outbox } from "./db/schema";
import { domainHandlers } from "./domains/handlers";
import { DomainRepository } from "./domains/repository";
import { DomainRules } from "./domains/domains";
import { projectHandlers } from "./projects/handlers";
import { requestLogHandlers } from "./request-logs/handlers";
import { RequestLogRepository } from "./request-logs/repository";
import { RequestLogRules } from "./request-logs/request-logs";
import { startRetentionLoop } from "./request-logs/retention-loop";
import { ProjectRepository } from "./projects/repository";
import { ProjectRules } from "./projects/projects";
import { secretHandlers } from "./secrets/handlers";
import { SecretRepository } from "./secrets/repository";
import { SecretRules } from "./secrets/secrets";
import { SecretVault } from "./secrets/secret-vault";
import { serviceAccountHandlers } from "./service-accounts/handlers";
import { serviceIdentityHandlers } from "./service-identities/handlers";
import { ServiceIdentityRepository } from "./service-identities/repository";
import { ServiceIdentityRules } from "./service-identities/service-identities";
import { ServiceAccountRepository } from "./service-accounts/repository";
import { ServiceAccountRules } from "./service-accounts/service-accounts";
import { userHandlers } from "./users/handlers";
import { UserRepository } from "./users/repository";
import { UserRules } from "./users/users";
import { workspaceHandlers } from "./workspaces/handlers";
import { WorkspaceRepository } from "./workspaces/repository";
import { WorkspaceRules } from "./workspaces/workspaces";

/**
 * The identity service (SPEC §4): login and tokens (JWT + JWKS), domains, workspaces, projects,
 * users and role bindings, service accounts, API keys and encrypted secrets.
 */
export const identityModule: ServiceModule = {
  name: "identity",
  domain: "cloudforet.identity.v1",
  defaultPort: 50051,
  schema: "identity",
  migrationsFolder: fileURLToPath(new URL("../drizzle", import.meta.url)),
  outbox,
  async create(context) {
    const { db, logger, bus } = context;
    // Every committed identity write passes here: the caller check's in-memory copy is dropped
    // before the write answers, so this process never serves a stale user, binding or key.
    let facts: CallerFacts | undefined;
    const kickOutbox = () => {
      facts?.invalidateAll();
      context.kickOutbox();
    };
    const config = readIdentityConfig(context.env, context.config);

    let secretKeys = config.secretKeys;
    if (!secretKeys) {
      const embedded = await embeddedSecretKeys(config.dataDir);
      if (embedded.created) logger.warn({ file: embedded.file }, "generated the secrets encryption key (embedded mode); keep this file with the data directory");
      secretKeys = embedded.keys;
    }
    const keyring = new SecretKeyring(secretKeys);

    const signingKeys = new SigningKeyStore(db, keyring, logger);
    await signingKeys.ensureActiveKey();
    await bootstrap(db, { adminUserId: config.adminUserId, adminPassword: config.adminPassword }, logger, kickOutbox);

    const domains = new DomainRepository(db, kickOutbox);
    const workspaces = new WorkspaceRepository(db, kickOutbox);
    const projects = new ProjectRepository(db, kickOutbox);
    const users = new UserRepository(db, kickOutbox);
    const serviceAccounts = new ServiceAccountRepository(db, kickOutbox);
    const apiKeys = new ApiKeyRepository(db, kickOutbox);
    const secrets = new SecretRepository(db, new SecretVault(keyring), kickOutbox);

    facts = new CallerFacts(domains, users, apiKeys);
    // Another replica's writes reach this one as events: drop the copy when one arrives.
    const replicaWrites = await bus.subscribe({
      durable: `identity-caller-facts-${randomUUID().slice(0, 8)}`,
      subjects: "cloudforet.identity.>",
      deliverPolicy: "new",
      inactiveThresholdMs: 60_000,
      handler: () => facts?.invalidateAll(),
      onGap: () => facts?.invalidateAll(),
    });
    const issuer = new TokenIssuer(signingKeys, { accessSeconds: config.tokenTtlSeconds, refreshSeconds: config.refreshTtlSeconds, serviceSeconds: config.serviceTokenTtlSeconds });
    const serviceIdentityRules = new ServiceIdentityRules(new ServiceIdentityRepository(db, kickOutbox), workspaces, issuer);
    const workspaceRules = new WorkspaceRules(workspaces);
    const projectRules = new ProjectRules(projects, workspaceRules);
    const authRepository = new AuthRepository(db);
    const loginThrottle = new LoginThrottle(authRepository, { ...config.loginThrottle, backoffMaxMs: config.loginThrottle.backoffMaxSeconds * 1000 });
    const authRules = new AuthRules(authRepository, domains, users, apiKeys, issuer, loginThrottle);

    const requestLogRules = new RequestLogRules(new RequestLogRepository(db, kickOutbox));
    // Every service publishes the calls of callers with logging on; the replicas share one durable, so each record is stored once.
    const requestLogIntake = await bus.subscribe<RequestLogRecordData>({
      durable: "identity-request-logs",
      subjects: requestLogSubjects.callRecorded,
      handler: (event) => requestLogRules.store(event.id, event.data),
    });
    const requestLogRetention = startRetentionLoop(requestLogRules, { retentionDays: config.requestLogRetentionDays, intervalMs: config.requestLogPruneIntervalSeconds * 1000 }, logger);

    const services = [AuthService, DomainService, WorkspaceService, ProjectService, UserService, ServiceAccountService, ApiKeyService, SecretService, ServiceIdentityService, RequestLogService];
    return {
      services,
      routes(router) {
        router.service(AuthService, authHandlers(authRules, signingKeys));
        router.service(DomainService, domainHandlers(new DomainRules(domains)));
        router.service(WorkspaceService, workspaceHandlers(workspaceRules));
        router.service(ProjectService, projectHandlers(projectRules));
        router.service(UserService, userHandlers(new UserRules(users, workspaceRules, loginThrottle)));
        router.service(ServiceAccountService, serviceAccountHandlers(new ServiceAccountRules(serviceAccounts, workspaceRules, projectRules, secrets)));
        router.service(ApiKeyService, apiKeyHandlers(new ApiKeyRules(apiKeys, users)));
        router.service(SecretService, secretHandlers(new SecretRules(secrets, workspaceRules, serviceAccounts)));
        router.service(ServiceIdentityService, serviceIdentityHandlers(serviceIdentityRules));
        router.service(RequestLogService, requestLogHandlers(requestLogRules));
      },
      // The host verifies tokens with identity's own keys (no JWKS fetch from itself); then
      // identity re-reads the caller from its tables, so its own revocations apply at once.
      verificationKeys: signingKeys.getKey,
      interceptors: [currentCallerInterceptor(issuer, facts, serviceIdentityRules)],
      http: jwksEndpoint(signingKeys),
      close: async () => {
        requestLogRetention.stop();
        await Promise.all([replicaWrites.close(), requestLogIntake.close()]);
      },
    };
  },
};
