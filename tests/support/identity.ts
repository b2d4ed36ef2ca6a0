import { createClient, type Interceptor } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { AuthService } from "@cloudforet/proto/cloudforet/identity/v1/auth_pb";
import { DomainService } from "@cloudforet/proto/cloudforet/identity/v1/domain_pb";

/** Sends `Authorization: Bearer <token>` on every call of a Connect client. */
export function bearer(token: string): Interceptor {
  return (next) => (req) => {
    req.header.set("authorization", `Bearer ${token}`);
    return next(req);
  };
}

const transport = (identityUrl: string, interceptors: Interceptor[] = []) =>
  createConnectTransport({ baseUrl: identityUrl, httpVersion: "2", interceptors });

/** AuthService.Login; resolves to the access token. */
export async function loginAs(identityUrl: string, domainId: string, userId: string, password: string): Promise<string> {
  const auth = createClient(AuthService, transport(identityUrl));
  const { token } = await auth.login({ domainId, userId, password });
  return token;
}

export interface DomainAdminOptions {
  /** Default "admin". */
  userId?: string;
  /** Default a fixed test password. */
  password?: string;
  name?: string;
}

export const DOMAIN_ADMIN_PASSWORD = "Domain-Admin-Passw0rd";

/**
 * Creates `domainId` with a first DOMAIN_ADMIN (as the platform administrator, i.e. a DOMAIN_ADMIN
 * of domain-default) and logs that admin in: a second tenant for isolation tests.
 */
export async function createDomainAdmin(identityUrl: string, adminToken: string, domainId: string, options: DomainAdminOptions = {}): Promise<string> {
  const userId = options.userId ?? "admin";
  const password = options.password ?? DOMAIN_ADMIN_PASSWORD;
  const domains = createClient(DomainService, transport(identityUrl, [bearer(adminToken)]));
  await domains.create({ domainId, name: options.name ?? domainId, adminUserId: userId, adminPassword: password });
  return loginAs(identityUrl, domainId, userId, password);
}
