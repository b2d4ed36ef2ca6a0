import type { JsonObject } from "@bufbuild/protobuf";
import type { Logger } from "pino";
import type { ChannelRow, ChannelType } from "../db/schema";
import { channelSettings, validateCredentials, type ChannelSettings } from "./channel-settings";
import type { CredentialSealer } from "./credential-sealer";
import type { ChannelRepository } from "./repository";
import type { SecretReader } from "./secret-reader";

/**
 * A channel's credentials: read from identity (SecretService.GetData, with the caller's token)
 * when a signed-in caller creates, tests or uses the channel, and kept only sealed on the channel
 * row, so that deliveries nobody waits on (retries, notifications raised by platform events) can
 * still authenticate. They never appear in options, responses or logs.
 */
export class ChannelCredentials {
  constructor(
    private readonly sealer: CredentialSealer,
    private readonly secrets: SecretReader,
    private readonly channels: ChannelRepository,
    private readonly refreshMs: number,
    private readonly logger: Logger,
  ) {}

  /** Reads and checks a secret for a channel of `type` (NOT_FOUND, PERMISSION_DENIED, INVALID_PARAMETER). */
  async read(type: ChannelType, secretId: string, authorization: string): Promise<JsonObject> {
    const data = await this.secrets.read(secretId, authorization);
    validateCredentials(type, data, secretId);
    return data;
  }

  seal(data: JsonObject, channelId: string): string {
    return this.sealer.seal(data, channelId);
  }

  /** The channel's delivery settings from its stored copy; throws CredentialsUnreadableError when it does not open. */
  settingsOf(row: ChannelRow): ChannelSettings {
    const credentials = row.secretId && row.sealedCredentials ? this.sealer.open(row.sealedCredentials, row.channelId) : undefined;
    return channelSettings(row.channelType, row.options, credentials);
  }

  /**
   * Re-reads the channel's secret with the caller's token and reseals it (always with `force`, else
   * only once the copy is older than the refresh interval). The RPC that asked goes on with the old
   * copy when identity cannot answer.
   */
  async refresh(row: ChannelRow, authorization: string | null, options: { force?: boolean } = {}): Promise<ChannelRow> {
    if (!row.secretId || !authorization) return row;
    const age = row.credentialsFetchedAt ? Date.now() - row.credentialsFetchedAt.getTime() : Infinity;
    if (!options.force && age < this.refreshMs) return row;
    try {
      const data = await this.read(row.channelType, row.secretId, authorization);
      return (await this.channels.storeCredentials(row.channelId, this.sealer.seal(data, row.channelId))) ?? row;
    } catch (err) {
      if (options.force) throw err;
      this.logger.warn({ channel_id: row.channelId, secret_id: row.secretId, err: (err as Error).message }, "could not refresh channel credentials; using the stored copy");
      return row;
    }
  }
}
