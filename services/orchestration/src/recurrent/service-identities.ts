import { PlatformError, serviceUnavailable } from "@cloudforet/errors";
import { ServiceIdentityService } from "@cloudforet/proto/cloudforet/identity/v1/service_identity_pb";
import { ClientError, createServiceClient, ErrorCategory, ServiceTokens } from "@cloudforet/resilience";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import type { Logger } from "pino";

/**
 * The workspace service identities recurrent requests run as (`target.run_as_workspace_id`): granted
 * by identity to orchestration with the creator's token (who must own the workspace), then
 * exchanged for short-lived tokens at each fire, so a request outlives any person's token.
 */
export interface RecurrentServiceIdentities {
  /** The credential of a new identity of the workspace, granted as the caller. */
  grant(workspaceId: string, authorization: string | undefined): Promise<string>;
  /** `Bearer …` of a current token of the identity; a ClientError when identity refuses or is away. */
  authorizationFor(credential: string): Promise<string>;
}

export function identityServiceIdentities(identityUrl: string, logger: Logger): RecurrentServiceIdentities {
  const client = createServiceClient(ServiceIdentityService, identityUrl, { logger, upstream: "identity", timeoutMs: 10_000 });
  const tokens = new ServiceTokens({
    async issueServiceToken(credential) {
      const issued = await client.issueToken({ credential });
      return { token: issued.token, expiresAt: issued.expiresAt ? timestampDate(issued.expiresAt) : new Date(Date.now() + 60_000) };
    },
  });
  return {
    async grant(workspaceId, authorization) {
      try {
        const granted = await client.grant({ service: "orchestration", workspaceId }, { headers: authorization ? { authorization } : {} });
        return granted.credential;
      } catch (err) {
        const failure = ClientError.from(err);
        // The caller's own mistake (not the workspace's owner, no such workspace) is theirs to see.
        if (failure.category === ErrorCategory.PERMISSION || failure.category === ErrorCategory.VALIDATION || failure.category === ErrorCategory.NOT_FOUND) {
          throw new PlatformError(failure.errorCode, `identity refused the service identity: ${failure.message}`, { metadata: { parameter: "target.run_as_workspace_id", workspace_id: workspaceId } });
        }
        throw serviceUnavailable("identity could not grant the service identity; try again", { upstream: "identity" });
      }
    },
    authorizationFor: (credential) => tokens.authorizationFor(credential),
  };
}

/** The service identities of the engine's identity service (CLOUDFORET_IDENTITY_URL or IDENTITY_URL); none without one. */
export function recurrentServiceIdentities(serviceUrls: Record<string, string>, logger: Logger): RecurrentServiceIdentities | undefined {
  const identityUrl = serviceUrls.CLOUDFORET_IDENTITY_URL ?? serviceUrls.IDENTITY_URL;
  return identityUrl ? identityServiceIdentities(identityUrl, logger) : undefined;
}
