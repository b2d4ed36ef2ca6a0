import { serviceUnavailable } from "@cloudforet/errors";
import { identitySubjects, type EventBus, type EventSubscription } from "@cloudforet/events";
import type { Logger } from "pino";
import type { RoleBinding } from "../caller";
import { isRoleBinding } from "./token-claims";
import { RequestLoggingSwitches } from "../request-logging/logging-switches";

/** Identity's events that make earlier tokens invalid. */
export const revocationSubjects: string[] = [
  identitySubjects.userDeleted,
  identitySubjects.userDisabled,
  identitySubjects.userPasswordChanged,
  identitySubjects.apiKeyRevoked,
];

/** Identity's event carrying a user's role bindings as they are after a change. */
export const rolesChangedSubject: string = identitySubjects.userRolesChanged;

/** Every identity event that changes what an already issued token may do. */
export const accessChangeSubjects = [...revocationSubjects, rolesChangedSubject];

/**
 * How long after a role change a token still counts as issued before it. Identity reads the
 * bindings a moment before it stamps `iat` (whole seconds; password check, revocation wait), and
 * the change's `at` is taken a moment before its commit; a token issued in that gap carries the old
 * bindings with a later `iat`. Giving such tokens the event's bindings is harmless otherwise: they
 * are the user's latest known bindings anyway.
 */
export const ROLE_CHANGE_GRACE_SECONDS = 3;

/** The follower's durable lives this long without its process (the bus may shorten it, for tests). */
const FOLLOWER_INACTIVE_THRESHOLD_MS = 10 * 60_000;
/** Identity events pulled per round trip while replaying the stream: a replay is a few requests, not one per event. */
const REPLAY_BATCH = 1_000;
/** How long a service waits for the replay before it starts serving anyway (refusing tokens until replayed). */
export const DEFAULT_REPLAY_TIMEOUT_MS = 30_000;

interface AccessChangeData {
  domain_id?: string;
  user_id?: string;
  api_key_id?: string;
  roles?: unknown;
  at?: string;
}

interface CurrentRoles {
  atMs: number;
  roles: RoleBinding[];
}

interface TokenFacts {
  did: string;
  sub: string;
  iat: number;
  akid?: string;
}

const userKey = (domainId: string, userId: string) => `${domainId}/${userId}`;

/**
 * What identity changed about users and API keys since their tokens were issued, learned from its
 * events, so services act on it without asking identity per request:
 * - a user's tokens issued before a revocation are refused; an API key's tokens whenever issued;
 * - a user's tokens issued before a role change carry the user's current bindings, not the token's.
 * Memory stays bounded by the number of users and keys: one revocation time and one latest set of
 * bindings per user.
 */
export class AccessChangeList {
  private readonly users = new Map<string, number>();
  private readonly apiKeys = new Set<string>();
  private readonly roles = new Map<string, CurrentRoles>();
  /** False from `follow` until the events identity had published by then are applied. */
  private replayed = true;

  revokeUser(domainId: string, userId: string, atSeconds: number): void {
    const key = userKey(domainId, userId);
    this.users.set(key, Math.max(this.users.get(key) ?? 0, atSeconds));
  }

  revokeApiKey(apiKeyId: string): void {
    this.apiKeys.add(apiKeyId);
  }

  /** Records the user's bindings as of `atMs`; an older change arriving late does not win. */
  setRoles(domainId: string, userId: string, roles: RoleBinding[], atMs: number): void {
    const key = userKey(domainId, userId);
    const known = this.roles.get(key);
    if (known && known.atMs > atMs) return;
    this.roles.set(key, { atMs, roles });
  }

  /**
   * Throws SERVICE_UNAVAILABLE while identity's past changes are still being replayed: until then
   * this replica would accept tokens the others refuse. Retryable, unlike a wrong token.
   */
  assertReplayed(): void {
    if (!this.replayed) throw serviceUnavailable("Access changes are still being loaded; retry shortly");
  }

  /** Why the token is no longer valid, or undefined when it still is. */
  reasonToReject(claims: TokenFacts): string | undefined {
    if (claims.akid && this.apiKeys.has(claims.akid)) return "API key revoked";
    const revokedAt = this.users.get(userKey(claims.did, claims.sub));
    if (revokedAt !== undefined && claims.iat <= revokedAt) return "user's tokens were revoked";
    return undefined;
  }

  /**
   * The user's bindings now, when they changed after (or just around) the token's issue; undefined
   * when the token's own are current. API-key tokens are the user's too (`sub`), so they follow.
   */
  currentRoles(claims: TokenFacts): RoleBinding[] | undefined {
    const known = this.roles.get(userKey(claims.did, claims.sub));
    if (!known) return undefined;
    return claims.iat <= Math.floor(known.atMs / 1000) + ROLE_CHANGE_GRACE_SECONDS ? known.roles : undefined;
  }

  /** Callers with request logging on (request-logging/), replayed from the same identity events. */
  readonly requestLogging = new RequestLoggingSwitches();

  /** Applies one identity event; other subjects, and malformed data, are ignored. */
  apply(subject: string, data: AccessChangeData): void {
    if (subject === identitySubjects.requestLoggingChanged) return this.requestLogging.apply(subject, data as Record<string, unknown>);
    if (!accessChangeSubjects.includes(subject)) return;
    const parsed = data.at ? Date.parse(data.at) : Number.NaN;
    const atMs = Number.isFinite(parsed) ? parsed : Date.now();
    if (subject.endsWith(".api_key.revoked")) {
      if (data.api_key_id) this.revokeApiKey(data.api_key_id);
      return;
    }
    if (!data.domain_id || !data.user_id) return;
    if (subject === rolesChangedSubject) {
      if (Array.isArray(data.roles) && data.roles.every(isRoleBinding)) this.setRoles(data.domain_id, data.user_id, data.roles, atMs);
      return;
    }
    this.revokeUser(data.domain_id, data.user_id, Math.floor(atMs / 1000));
    // A deleted user's tokens are all refused now; a user created later under the same id starts afresh.
    if (subject.endsWith(".user.deleted")) this.roles.delete(userKey(data.domain_id, data.user_id));
  }

  /**
   * Follows identity's events from the start of the stream. Each process keeps its own list, so
   * the durable name is unique to the process and the broker drops it once it is gone (the bus
   * recreates it, replaying from after the last applied event, if the process was only cut off).
   * Until the subscription's `caughtUp` resolves, `assertReplayed` refuses.
   */
  async follow(bus: EventBus, durable: string, logger: Logger): Promise<EventSubscription> {
    this.replayed = false;
    const startedAt = Date.now();
    let applied = 0;
    const subscription = await bus.subscribe<AccessChangeData>({
      durable,
      // One subject filter works on every NATS version; the other identity events are ignored here.
      subjects: "cloudforet.identity.>",
      deliverPolicy: "all",
      inactiveThresholdMs: FOLLOWER_INACTIVE_THRESHOLD_MS,
      prefetch: REPLAY_BATCH,
      handler: (event) => {
        this.apply(event.subject, event.data ?? {});
        applied += 1;
        if (this.replayed && accessChangeSubjects.includes(event.subject)) logger.debug({ subject: event.subject }, "access change applied");
      },
      onGap: (gap) => logger.warn({ durable: gap.durable, reason: gap.reason }, "access-change consumer recreated; replaying identity's events"),
    });
    subscription.caughtUp.then(
      () => {
        this.replayed = true;
        logger.info({ events: applied, ms: Date.now() - startedAt }, "identity's access changes replayed");
      },
      () => {},
    );
    return subscription;
  }
}

/**
 * Waits until `feed` replayed identity's past events, at most `timeoutMs`. True when it did; false
 * (logged) when NATS is too slow, and the service starts anyway: its verifier answers UNAVAILABLE
 * and its readiness fails until the replay completes.
 */
export async function awaitReplay(feed: EventSubscription, logger: Logger, timeoutMs = DEFAULT_REPLAY_TIMEOUT_MS): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs);
  });
  try {
    const done = await Promise.race([feed.caughtUp.then(() => true, () => false), timedOut]);
    if (!done) {
      logger.warn(
        { timeout_ms: timeoutMs, durable: feed.durable },
        "identity's access changes not replayed in time; serving, but authenticated calls get UNAVAILABLE until the replay completes",
      );
    }
    return done;
  } finally {
    clearTimeout(timer);
  }
}

/** The earlier name, kept for the modules that import it. */
export const RevocationList = AccessChangeList;
export type RevocationList = AccessChangeList;
