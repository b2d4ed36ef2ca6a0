import type { ApiKeyRow, DomainRow, EntityState, RoleBindingRow } from "../db/schema";
import type { ApiKeyRepository } from "../api-keys/repository";
import type { DomainRepository } from "../domains/repository";
import type { UserRepository } from "../users/repository";

/** What identity checks about a token's user on every call: is it still allowed, with which roles. */
export interface UserFacts {
  state: EntityState;
  tokensRevokedAt: Date | null;
  bindings: RoleBindingRow[];
}

export interface CallerFactsOptions {
  /** Entries kept at most (users, domains and keys together); the oldest go first. */
  maxEntries?: number;
  /**
   * The longest an entry is trusted. Writes made by this process drop the cache at once, and
   * identity's events (another replica's writes) drop it as they arrive; this bounds what a lost
   * or late event can leave stale.
   */
  ttlMs?: number;
}

interface Entry {
  value: unknown;
  loadedAt: number;
}

/**
 * A bounded in-memory copy of the rows identity's per-call caller check reads (the user with its
 * role bindings, the domain, the API key), so an authenticated call costs no extra database round
 * trip. Correctness rests on invalidation, not on the TTL: every identity write in this process
 * calls `invalidateAll` after its commit (before the write's answer is sent), and identity's events
 * from other replicas do too. A load that raced an invalidation is answered but not kept.
 */
export class CallerFacts {
  private readonly entries = new Map<string, Entry>();
  /** Loads in flight, shared by concurrent callers of the same key (a burst costs one query). */
  private readonly loading = new Map<string, Promise<unknown>>();
  /** Bumped by every invalidation; a load started under an older generation is not stored. */
  private generation = 0;
  private readonly maxEntries: number;
  private readonly ttlMs: number;

  constructor(
    private readonly domains: DomainRepository,
    private readonly users: UserRepository,
    private readonly apiKeys: ApiKeyRepository,
    options: CallerFactsOptions = {},
  ) {
    this.maxEntries = options.maxEntries ?? 10_000;
    this.ttlMs = options.ttlMs ?? 5_000;
  }

  /** Forgets everything: something identity keeps about users, domains or keys changed. */
  invalidateAll(): void {
    this.generation++;
    this.entries.clear();
    this.loading.clear();
  }

  domain(domainId: string): Promise<DomainRow | undefined> {
    return this.cached(`d\0${domainId}`, () => this.domains.get(domainId));
  }

  user(domainId: string, userId: string): Promise<UserFacts | undefined> {
    return this.cached(`u\0${domainId}\0${userId}`, async () => {
      const found = await this.users.get(domainId, userId);
      return found && { state: found.user.state, tokensRevokedAt: found.user.tokensRevokedAt, bindings: found.bindings };
    });
  }

  apiKey(domainId: string, apiKeyId: string): Promise<ApiKeyRow | undefined> {
    return this.cached(`k\0${domainId}\0${apiKeyId}`, () => this.apiKeys.get(domainId, apiKeyId));
  }

  private cached<T>(key: string, load: () => Promise<T>): Promise<T> {
    const hit = this.entries.get(key);
    if (hit && Date.now() - hit.loadedAt < this.ttlMs) return Promise.resolve(hit.value as T);
    const pending = this.loading.get(key);
    if (pending) return pending as Promise<T>;
    const generation = this.generation;
    const started = Date.now();
    const loaded = load().then(
      (value) => {
        if (this.loading.get(key) === loaded) this.loading.delete(key);
        if (generation === this.generation) this.store(key, { value, loadedAt: started });
        return value;
      },
      (err: unknown) => {
        if (this.loading.get(key) === loaded) this.loading.delete(key);
        throw err;
      },
    );
    this.loading.set(key, loaded);
    return loaded;
  }

  private store(key: string, entry: Entry): void {
    this.entries.delete(key); // re-inserted last: Map order is the eviction order
    this.entries.set(key, entry);
    if (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
  }
}
