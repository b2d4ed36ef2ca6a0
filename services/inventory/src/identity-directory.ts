import type { JsonObject } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import { invalidParameter, PlatformError, serviceUnavailable } from "@cloudforet/errors";
import { SecretService } from "@cloudforet/proto/cloudforet/identity/v1/secret_pb";
import { ServiceAccountService } from "@cloudforet/proto/cloudforet/identity/v1/service_account_pb";
import { ServiceIdentityService } from "@cloudforet/proto/cloudforet/identity/v1/service_identity_pb";
import { WorkspaceService } from "@cloudforet/proto/cloudforet/identity/v1/workspace_pb";
import { ClientError, createServiceClient, ErrorCategory } from "@cloudforet/resilience";
import type { Logger } from "pino";
import { timestampDate } from "@bufbuild/protobuf/wkt";

export interface ServiceAccountInfo {
  serviceAccountId: string;
  provider: string;
  workspaceId: string;
  secretId: string;
  data: JsonObject;
}

/**
 * What inventory asks identity, always with the caller's own token so that identity's access
 * rules decide what the caller can use. Implemented over RPC; tests may substitute it.
 */
export interface IdentityDirectory {
  /** The account, or undefined when it does not exist or the caller cannot see it. */
  serviceAccount(serviceAccountId: string, authorization: string | null): Promise<ServiceAccountInfo | undefined>;
  /** Ids of the accounts of a provider in a workspace. */
  serviceAccountsOf(provider: string, workspaceId: string, authorization: string | null): Promise<string[]>;
  /** A secret's decrypted data (SecretService.GetData). */
  secretData(secretId: string, authorization: string | null): Promise<JsonObject>;
  workspaceExists(workspaceId: string, authorization: string | null): Promise<boolean>;
  /**
   * Grants inventory the workspace's service identity, as the caller (who must own the workspace);
   * returns its credential, shown once. ERROR_PERMISSION_DENIED when the caller may not.
   */
  grantServiceIdentity(workspaceId: string, authorization: string | null): Promise<string>;
  /** A short-lived token of a service identity (no caller token: the credential authenticates). */
  issueServiceToken(credential: string): Promise<{ token: string; expiresAt: Date }>;
}

const invisible = new Set([Code.NotFound, Code.PermissionDenied]);

export function identityDirectory(identityUrl: string, logger: Logger): IdentityDirectory {
  const options = { logger, upstream: "identity", timeoutMs: 10_000 };
  const accounts = createServiceClient(ServiceAccountService, identityUrl, options);
  const secrets = createServiceClient(SecretService, identityUrl, options);
  const workspaces = createServiceClient(WorkspaceService, identityUrl, options);
  const serviceIdentities = createServiceClient(ServiceIdentityService, identityUrl, options);
  const headers = (authorization: string | null) => ({ headers: authorization ? { authorization } : {} });
  return {
    async serviceAccount(serviceAccountId, authorization) {
      try {
        const account = await accounts.get({ serviceAccountId }, headers(authorization));
        return { serviceAccountId: account.serviceAccountId, provider: account.provider, workspaceId: account.workspaceId, secretId: account.secretId, data: account.data ?? {} };
      } catch (err) {
        if (err instanceof ClientError && (invisible.has(err.grpcCode) || err.grpcCode === Code.InvalidArgument)) return undefined;
        throw identityFailure(err, "service account");
      }
    },
    async serviceAccountsOf(provider, workspaceId, authorization) {
      const ids: string[] = [];
      try {
        for (let start = 0; ; start += 1000) {
          const page = await accounts.list(
            {
              query: {
                filter: [
                  { k: "provider", v: { kind: { case: "stringValue", value: provider } }, o: "eq" },
                  { k: "workspace_id", v: { kind: { case: "stringValue", value: workspaceId } }, o: "eq" },
                ],
                page: { start, limit: 1000 },
                sort: { key: "service_account_id" },
              },
            },
            headers(authorization),
          );
          ids.push(...page.results.map((a) => a.serviceAccountId));
          if (page.results.length < 1000 || ids.length >= page.totalCount) return ids;
        }
      } catch (err) {
        throw identityFailure(err, "service accounts");
      }
    },
    async secretData(secretId, authorization) {
      try {
        const secret = await secrets.getData({ secretId }, headers(authorization));
        return secret.data ?? {};
      } catch (err) {
        if (err instanceof ClientError && (invisible.has(err.grpcCode) || err.grpcCode === Code.InvalidArgument)) {
          throw invalidParameter(`The account's secret cannot be used: ${err.message}`, { parameter: "secret_id", value: secretId });
        }
        throw identityFailure(err, "secret");
      }
    },
    async grantServiceIdentity(workspaceId, authorization) {
      try {
        const granted = await serviceIdentities.grant({ service: "inventory", workspaceId }, headers(authorization));
        return granted.credential;
      } catch (err) {
        const failure = ClientError.from(err);
        if (failure.category === ErrorCategory.PERMISSION || failure.category === ErrorCategory.VALIDATION) {
          throw new PlatformError(failure.errorCode, `identity refused the service identity: ${failure.message}`, { metadata: { workspace_id: workspaceId } });
        }
        throw identityFailure(err, "service identity");
      }
    },
    async issueServiceToken(credential) {
      try {
        const issued = await serviceIdentities.issueToken({ credential });
        return { token: issued.token, expiresAt: issued.expiresAt ? timestampDate(issued.expiresAt) : new Date(Date.now() + 60_000) };
      } catch (err) {
        throw identityFailure(err, "service token");
      }
    },
    async workspaceExists(workspaceId, authorization) {
      try {
        await workspaces.get({ workspaceId }, headers(authorization));
        return true;
      } catch (err) {
        if (err instanceof ClientError && invisible.has(err.grpcCode)) return false;
        throw identityFailure(err, "workspace");
      }
    },
  };
}

/** An identity failure that is not about the input: identity is unavailable or broken. */
function identityFailure(err: unknown, what: string): PlatformError {
  const failure = ClientError.from(err);
  if (failure.category === ErrorCategory.AUTH) {
    return new PlatformError(failure.errorCode, `identity refused the ${what} lookup: ${failure.message}`);
  }
  return serviceUnavailable(`identity could not answer the ${what} lookup: ${failure.message}`);
}
