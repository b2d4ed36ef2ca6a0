import type { EventBus, EventSubscription } from "@cloudforet/events";
import type { Logger } from "pino";

/** Identity's events that make earlier tokens invalid. */
export const revocationSubjects = [
  "cloudforet.identity.user.deleted",
  "cloudforet.identity.user.disabled",
  "cloudforet.identity.user.password_changed",
  "cloudforet.identity.api_key.revoked",
];

interface RevocationData {
  domain_id?: string;
  user_id?: string;
  api_key_id?: string;
  at?: string;
}

/**
 * Users and API keys whose tokens stop being valid, learned from identity's events, so services
 * reject them without asking identity per request. A user's tokens issued before the event are
 * refused; an API key's tokens are refused whenever issued.
 */
export class RevocationList {
  private readonly users = new Map<string, number>();
  private readonly apiKeys = new Set<string>();

  revokeUser(domainId: string, userId: string, atSeconds: number): void {
    const key = `${domainId}/${userId}`;
    this.users.set(key, Math.max(this.users.get(key) ?? 0, atSeconds));
  }

  revokeApiKey(apiKeyId: string): void {
    this.apiKeys.add(apiKeyId);
  }

  /** Why the token is no longer valid, or undefined when it still is. */
  reasonToReject(claims: { did: string; sub: string; iat: number; akid?: string }): string | undefined {
    if (claims.akid && this.apiKeys.has(claims.akid)) return "API key revoked";
    const revokedAt = this.users.get(`${claims.did}/${claims.sub}`);
    if (revokedAt !== undefined && claims.iat <= revokedAt) return "user's tokens were revoked";
    return undefined;
  }

  apply(subject: string, data: RevocationData): void {
    if (!revocationSubjects.includes(subject)) return;
    const at = data.at ? Math.floor(Date.parse(data.at) / 1000) : Math.floor(Date.now() / 1000);
    if (subject.endsWith(".api_key.revoked") && data.api_key_id) this.revokeApiKey(data.api_key_id);
    else if (data.domain_id && data.user_id) this.revokeUser(data.domain_id, data.user_id, Number.isFinite(at) ? at : Math.floor(Date.now() / 1000));
  }

  /**
   * Follows identity's revocation events from the start of the stream. Each process keeps its own
   * list, so the durable name is unique to the process and the broker drops it once it is gone.
   */
  follow(bus: EventBus, durable: string, logger: Logger): Promise<EventSubscription> {
    return bus.subscribe<RevocationData>({
      durable,
      // One subject filter works on every NATS version; the other identity events are ignored here.
      subjects: "cloudforet.identity.>",
      deliverPolicy: "all",
      inactiveThresholdMs: 10 * 60_000,
      handler: (event) => {
        this.apply(event.subject, event.data ?? {});
        logger.debug({ subject: event.subject }, "token revocation applied");
      },
    });
  }
}
