import type { JsonObject } from "@bufbuild/protobuf";
import { ErrorCode, invalidParameter, notFound, permissionDenied, serviceUnavailable } from "@cloudforet/errors";
import { SecretService } from "@cloudforet/proto/cloudforet/identity/v1/secret_pb";
import { ClientError, createServiceClient } from "@cloudforet/resilience";
import type { Logger } from "pino";

/** Reads a secret's decrypted data as the caller whose `Authorization` header is given. */
export interface SecretReader {
  read(secretId: string, authorization: string): Promise<JsonObject>;
}

/**
 * identity's SecretService.GetData through the platform client (deadline, retry, breaker),
 * with the caller's own token, so a caller only reaches the secrets it may read. Identity's
 * answers become this service's errors, naming `secret_id`.
 */
export class IdentitySecretReader implements SecretReader {
  private readonly client;

  constructor(identityUrl: string, logger: Logger) {
    this.client = createServiceClient(SecretService, identityUrl, { upstream: "identity", logger, timeoutMs: 10_000 });
  }

  async read(secretId: string, authorization: string): Promise<JsonObject> {
    try {
      const response = await this.client.getData({ secretId }, { headers: { authorization } });
      return response.data ?? {};
    } catch (err) {
      const error = ClientError.from(err);
      switch (error.errorCode) {
        case ErrorCode.NOT_FOUND:
          throw notFound("Secret not found", { secret_id: secretId });
        case ErrorCode.PERMISSION_DENIED:
          throw permissionDenied(error.message || "Access to the secret denied", { secret_id: secretId });
        case ErrorCode.INVALID_PARAMETER:
          throw invalidParameter(error.message || "The secret cannot be read", { parameter: "secret_id", value: secretId });
        default:
          throw serviceUnavailable(`identity could not return the secret: ${error.message}`, { secret_id: secretId }, err);
      }
    }
  }
}
