import { fileURLToPath } from "node:url";
import type { ServiceModule } from "@cloudforet/runtime";
import { ApiKeyService } from "@cloudforet/proto/cloudforet/identity/v1/api_key_pb";
import { AuthService } from "@cloudforet/proto/cloudforet/identity/v1/auth_pb";
import { DomainService } from "@cloudforet/proto/cloudforet/identity/v1/domain_pb";
import { ProjectService } from "@cloudforet/proto/cloudforet/identity/v1/project_pb";
import { SecretService } from "@cloudforet/proto/cloudforet/identity/v1/secret_pb";
import { ServiceAccountService } from "@cloudforet/proto/cloudforet/identity/v1/service_account_pb";
import { UserService } from "@cloudforet/proto/cloudforet/identity/v1/user_pb";
import { WorkspaceService } from "@cloudforet/proto/cloudforet/identity/v1/workspace_pb";
import { apiKeyHandlers } from "./api-keys/handlers";
import { ApiKeyRepository } from "./api-keys/repository";
import { ApiKeyRules } from "./api-keys/rules";
import { currentCallerInterceptor } from "./auth/current-caller";
import { authHandlers } from "./auth/handlers";
import { jwksEndpoint } from "./auth/jwks-endpoint";
import { AuthRepository } from "./auth/repository";
import { AuthRules } from "./auth/rules";
import { SigningKeyStore } from "./auth/signing-keys";
import { TokenIssuer } from "./auth/token-issuer";
import { bootstrap } from "./bootstrap";
import { readIdentityConfig } from "./config";
import { SecretKeyring, embeddedSecretKeys } from "./crypto/secret-keyring";
import { outbox } from "./db/schema";
import { domainHandlers } from "./domains/handlers";
import { DomainRepository } from "./domains/repository";
import { DomainRules } from "./domains/rules";
import { projectHandlers } from "./projects/handlers";
import { ProjectRepository } from "./projects/repository";
import { ProjectRules } from "./projects/rules";
import { secretHandlers } from "./secrets/handlers";
import { SecretRepository } from "./secrets/repository";
import { SecretRules } from "./secrets/rules";
import { SecretVault } from "./secrets/secret-vault";
import { serviceAccountHandlers } from "./service-accounts/handlers";
import { ServiceAccountRepository } from "./service-accounts/repository";
import { ServiceAccountRules } from "./service-accounts/rules";
import { userHandlers } from "./users/handlers";
import { UserRepository } from "./users/repository";
import { UserRules } from "./users/rules";
import { workspaceHandlers } from "./workspaces/handlers";
import { WorkspaceRepository } from "./workspaces/repository";
import { WorkspaceRules } from "./workspaces/rules";

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
    const { db, logger, kickOutbox } = context;
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

    const issuer = new TokenIssuer(signingKeys, { accessSeconds: config.tokenTtlSeconds, refreshSeconds: config.refreshTtlSeconds });
    const workspaceRules = new WorkspaceRules(workspaces);
    const projectRules = new ProjectRules(projects, workspaceRules);
    const authRules = new AuthRules(new AuthRepository(db), domains, users, apiKeys, issuer, {
      maxFailures: config.loginMaxFailures,
      windowMs: config.loginWindowSeconds * 1000,
    });

    const services = [AuthService, DomainService, WorkspaceService, ProjectService, UserService, ServiceAccountService, ApiKeyService, SecretService];
    return {
      services,
      routes(router) {
        router.service(AuthService, authHandlers(authRules, signingKeys));
        router.service(DomainService, domainHandlers(new DomainRules(domains)));
        router.service(WorkspaceService, workspaceHandlers(workspaceRules));
        router.service(ProjectService, projectHandlers(projectRules));
        router.service(UserService, userHandlers(new UserRules(users, workspaceRules)));
        router.service(ServiceAccountService, serviceAccountHandlers(new ServiceAccountRules(serviceAccounts, workspaceRules, projectRules, secrets)));
        router.service(ApiKeyService, apiKeyHandlers(new ApiKeyRules(apiKeys, users)));
        router.service(SecretService, secretHandlers(new SecretRules(secrets, workspaceRules, serviceAccounts)));
      },
      // The host verifies tokens with identity's own keys (no JWKS fetch from itself); then
      // identity re-reads the caller from its tables, so its own revocations apply at once.
      verificationKeys: signingKeys.getKey,
      interceptors: [currentCallerInterceptor(issuer, domains, users, apiKeys)],
      http: jwksEndpoint(signingKeys),
    };
  },
};
