import { rateLimited } from "@cloudforet/errors";
import type { AuthRepository, Backoff, ThrottleKey } from "./repository";

export interface LoginThrottlePolicy {
  /** Failures of one account from one address before waits begin. */
  freeAttempts: number;
  /** Failures from one address, over all accounts, before waits begin. */
  addressFreeAttempts: number;
  /** Failures of one account, over all addresses, before waits begin. */
  accountFreeAttempts: number;
  /** The longest wait. */
  backoffMaxMs: number;
}

/** The first wait after the free failures; each further failure doubles it. */
const BASE_WAIT_MS = 1000;

/** What a caller of `attempt` reports back once it knows whether the password was right. */
export interface LoginAttempt {
  /** The password was right: the attempt does not count as a failure. */
  succeeded(): Promise<void>;
  /** The password was wrong: the wait starts now, not when the attempt began. */
  failed(): Promise<void>;
}

/**
 * Throttles password guesses (Login and SetPassword's current_password) with a doubling wait instead
 * of a lock the attacker controls. Three counters, all kept in Postgres so replicas share them:
 *
 * - the account from this address (`freeAttempts`, 5): the usual brake on guessing one password.
 *   Keyed on the address too, so an attacker hammering the admin from X never slows the admin
 *   logging in from Y — denying the real user was the flaw of the old per-user lock.
 * - the address over all accounts (`addressFreeAttempts`, 20): does the heavy lifting against
 *   spraying many users (or many guessed user ids) from one place.
 * - the account over all addresses (`accountFreeAttempts`, 100): a ceiling against a guesser spread
 *   over many addresses. It is set far above what one real user mistypes, so it only bites under a
 *   distributed attack, and then it delays (capped at the max wait) rather than locks.
 *
 * Failures of unknown accounts count like known ones, so the limiter does not reveal which exist.
 */
export class LoginThrottle {
  private readonly backoff: Backoff;

  constructor(
    private readonly repository: AuthRepository,
    private readonly policy: LoginThrottlePolicy,
  ) {
    // An idle counter is forgotten after twice the longest wait: a guesser pacing itself at the cap
    // keeps its counter (and its long wait) alive.
    this.backoff = { baseMs: BASE_WAIT_MS, maxMs: policy.backoffMaxMs, forgetMs: 2 * policy.backoffMaxMs };
  }

  get forgetMs(): number {
    return this.backoff.forgetMs;
  }

  /**
   * Counts an attempt up front (a failure until `succeeded()` says otherwise); ERROR_RATE_LIMITED
   * with RetryInfo when any of the three counters is waiting.
   */
  async attempt(account: { domainId: string; userId: string }, address: string, now = new Date()): Promise<LoginAttempt> {
    // JSON arrays: no user id (which may hold "@" or "/") can make one key look like another.
    const accountKey = JSON.stringify(["account", account.domainId, account.userId]);
    const accountFromAddress = JSON.stringify(["account-from-address", account.domainId, account.userId, address]);
    const keys: ThrottleKey[] = [
      { key: JSON.stringify(["address", address]), freeAttempts: this.policy.addressFreeAttempts },
      { key: accountKey, freeAttempts: this.policy.accountFreeAttempts },
      { key: accountFromAddress, freeAttempts: this.policy.freeAttempts },
    ];
    const reservation = await this.repository.reserveAttempt(keys, this.backoff, now);
    if (!reservation.reserved) {
      throw rateLimited("Too many failed attempts; try again later", reservation.retryAfterMs, { domain_id: account.domainId, user_id: account.userId });
    }
    return {
      succeeded: () => this.repository.releaseAttempt(keys, [accountFromAddress], this.backoff),
      failed: () => this.repository.confirmFailure(keys, this.backoff, new Date()),
    };
  }
}
