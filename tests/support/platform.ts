import type { DescService } from "@bufbuild/protobuf";
import { createClient, type Client, type Interceptor } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { identityModule } from "@cloudforet/identity";
import { AuthService } from "@cloudforet/proto/cloudforet/identity/v1/auth_pb";
import { DomainService } from "@cloudforet/proto/cloudforet/identity/v1/domain_pb";
import { RoleBinding_Role, UserService } from "@cloudforet/proto/cloudforet/identity/v1/user_pb";
import { WorkspaceService } from "@cloudforet/proto/cloudforet/identity/v1/workspace_pb";
import { startService, type RunningService, type ServiceModule } from "@cloudforet/runtime";
import { createTestDatabase, freePort, secretCanary, TEST_OUTBOUND_ALLOW, type TestDatabase } from "@cloudforet/testing";

/** Someone to call the platform as: a domain and the token that proves it. */
export interface Identity {
  domainId: string;
  userId: string;
  token: string;
}

export interface TestPlatformOptions {
  /** The services under test besides identity, which always starts first (it issues the tokens). */
  modules: ServiceModule[];
  /** Extra environment for every service. */
  env?: Record<string, string>;
}

export interface TestPlatform {
  databaseUrl: string;
  /** The base URL of a running service, by name ("cloud-service"). */
  url(name: string): string;
  /** The bootstrap administrator of domain-default. */
  admin: Identity;
  /** A Connect client (HTTP/2) for any served service, calling as `as` (default: the admin). */
  client<S extends DescService>(service: S, as?: Identity): Client<S>;
  /** The same without credentials, to test that calls are refused. */
  anonymousClient<S extends DescService>(service: S): Client<S>;
  /** Logs in through identity's AuthService. */
  login(domainId: string, userId: string, password: string): Promise<Identity>;
  /** A new domain and its administrator (for tenant-isolation tests). */
  createDomainAdmin(domainId: string): Promise<Identity>;
  /** A user of the caller's domain with one role in a workspace (created if missing). */
  createWorkspaceUser(as: Identity, userId: string, role: "WORKSPACE_OWNER" | "WORKSPACE_MEMBER", workspaceId: string): Promise<Identity>;
  /** Stops every service and drops the database. */
  close(): Promise<void>;
}

/** A canary (packages/testing), so the secrets sweep would find it in any table or log line. */
export const ADMIN_PASSWORD = secretCanary("admin_password");

/** Sends the identity's token as `Authorization: Bearer …` on every call. */
export function bearer(token: string): Interceptor {
  return (next) => (req) => {
    req.header.set("authorization", `Bearer ${token}`);
    return next(req);
  };
}

/**
 * The services a test needs, running in this process on a database of their own and the
 * in-process bus, exactly as `npm start` runs them, each on a free port.
 */
export async function startTestPlatform(options: TestPlatformOptions): Promise<TestPlatform> {
  const database: TestDatabase = await createTestDatabase("platform");
  const running: RunningService[] = [];
  const byDomain = new Map<string, RunningService>();
  // cloud-service reads push collections' collector rules from inventory, which starts after it:
  // inventory gets a known port, and every service its URL (a test's own env wins).
  const inventoryPort = options.modules.some((m) => m.name === "inventory") && !options.env?.INVENTORY_URL && !options.env?.INVENTORY_ADDR ? await freePort() : undefined;
  const wiring: Record<string, string> = inventoryPort ? { INVENTORY_URL: `http://127.0.0.1:${inventoryPort}` } : {};
  const env = (name: string, extra: Record<string, string> = {}) => ({
    DATABASE_URL: database.url,
    [`${name.toUpperCase().replace(/-/g, "_")}_ADDR`]: name === "inventory" && inventoryPort ? `127.0.0.1:${inventoryPort}` : "127.0.0.1:0",
    ...wiring,
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? "silent",
    CLOUDFORET_ADMIN_PASSWORD: ADMIN_PASSWORD,
    IDENTITY_SECRET_KEYS: `test:${Buffer.alloc(32, 1).toString("base64")}`,
    // Required with DATABASE_URL (replicas must share them); fixed so a restarted service opens its seals.
    NOTIFICATION_CREDENTIALS_KEYS: `test:${Buffer.alloc(32, 2).toString("base64")}`,
    ORCHESTRATION_CREDENTIALS_KEYS: `test:${Buffer.alloc(32, 3).toString("base64")}`,
    INVENTORY_CREDENTIALS_KEYS: `test:${Buffer.alloc(32, 4).toString("base64")}`,
    CLOUDFORET_OUTBOUND_ALLOW: TEST_OUTBOUND_ALLOW, // tests' receivers and plugins listen on 127.0.0.1
    // This file's own NATS consumers (tests/consumer-prefix.setup.ts), when the platform runs on NATS.
    ...(process.env.NATS_CONSUMER_PREFIX ? { NATS_CONSUMER_PREFIX: process.env.NATS_CONSUMER_PREFIX, NATS_CONSUMER_SINCE: process.env.NATS_CONSUMER_SINCE ?? "" } : {}),
    ...options.env,
    ...extra,
  });
  try {
    const identity = await startService(identityModule, env(identityModule.name));
    running.push(identity);
    byDomain.set(identityModule.domain, identity);
    for (const module of options.modules.filter((m) => m.name !== identityModule.name)) {
      const service = await startService(module, env(module.name, { IDENTITY_URL: identity.url }));
      running.push(service);
      byDomain.set(module.domain, service);
    }
  } catch (err) {
    await Promise.all(running.map((s) => s.close()));
    await database.drop();
    throw err;
  }
  const urlOf = (service: DescService) => {
    const pkg = service.typeName.slice(0, service.typeName.lastIndexOf("."));
    const target = byDomain.get(pkg);
    if (!target) throw new Error(`no running service serves ${service.typeName}; add its module to startTestPlatform`);
    return target.url;
  };
  const clientAs = <S extends DescService>(service: S, as?: Identity) =>
    createClient(service, createConnectTransport({ baseUrl: urlOf(service), httpVersion: "2", interceptors: as ? [bearer(as.token)] : [] }));
  const login = async (domainId: string, userId: string, password: string): Promise<Identity> => {
    const { token } = await clientAs(AuthService).login({ domainId, userId, password });
    return { domainId, userId, token };
  };
  const admin = await login("domain-default", "admin", ADMIN_PASSWORD);
  return {
    databaseUrl: database.url,
    url(name) {
      const service = running.find((s) => s.name === name);
      if (!service) throw new Error(`${name} is not running`);
      return service.url;
    },
    admin,
    client: (service, as = admin) => clientAs(service, as),
    anonymousClient: (service) => clientAs(service),
    login,
    async createDomainAdmin(domainId) {
      await clientAs(DomainService, admin).create({ domainId, name: domainId, adminUserId: "admin", adminPassword: ADMIN_PASSWORD });
      return login(domainId, "admin", ADMIN_PASSWORD);
    },
    async createWorkspaceUser(as, userId, role, workspaceId) {
      const workspaces = clientAs(WorkspaceService, as);
      await workspaces.get({ workspaceId }).catch(() => workspaces.create({ workspaceId, name: workspaceId }));
      await clientAs(UserService, as).create({
        userId,
        password: ADMIN_PASSWORD,
        name: userId,
        roleBindings: [{ role: RoleBinding_Role[role], workspaceId }],
      });
      return login(as.domainId, userId, ADMIN_PASSWORD);
    },
    async close() {
      await Promise.all(running.map((s) => s.close()));
      await database.drop();
    },
  };
}
