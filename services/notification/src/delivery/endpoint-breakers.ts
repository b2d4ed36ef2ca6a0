import { queryRows, type Database, type DatabaseExecutor } from "@cloudforet/db";
import { sql } from "drizzle-orm";
import type { Logger } from "pino";
import { endpointBreakers, type BreakerState } from "../db/schema";
import type { Endpoint } from "./endpoint";

export type { BreakerState } from "../db/schema";

export interface EndpointBreakerOptions {
  /** Consecutive retryable failures, counted over every replica, that open an endpoint's circuit (seed 000, pattern 3). */
  failureThreshold: number;
  /** How long it stays open before one probe is let through. */
  resetTimeoutMs: number;
  logger: Logger;
}

/** What one endpoint may take in a claim: how many rows, and whether the one it takes is the half-open probe. */
export interface EndpointAdmission {
  slots: number;
  probe: boolean;
}

/** How an attempt ended, as the breaker counts it: only retryable failures count against the endpoint. */
export type BreakerResult = "success" | "failure";

/**
 * The delivery circuit breakers, one per endpoint, kept in Postgres so that every replica sees the
 * same one (opossum's, per process, let N replicas make N × threshold attempts and N probes).
 * Every change is one statement under the row's lock with the database's clock; the replica whose
 * statement made a transition writes its log line.
 */
export class EndpointBreakers {
  constructor(
    private readonly db: Database,
    private readonly options: EndpointBreakerOptions,
  ) {}

  /**
   * Inside a claim's transaction: locks the endpoints' breaker rows (so claims of one endpoint are
   * serialized over replicas), counts their leased in-flight deliveries and says how many rows each
   * may take. A closed endpoint gets `endpointLimit` minus its in-flight rows; an open one nothing,
   * until its probe is due: then exactly one claimer turns it half-open and takes one row. In-flight
   * slots are leased rows, so a crashed replica's slots free themselves when its leases end.
   */
  async admit(tx: DatabaseExecutor, endpointKeys: string[], endpointLimit: number, probeLeaseMs: number): Promise<Map<string, EndpointAdmission>> {
    const keys = [...new Set(endpointKeys)].sort();
    const admissions = new Map<string, EndpointAdmission>();
    if (keys.length === 0) return admissions;
    const keyList = sql.join(
      keys.map((k) => sql`${k}`),
      sql`, `,
    );
    // Sorted inserts and locks: two claimers never wait on each other in opposite orders.
    await tx.execute(sql`insert into ${endpointBreakers} (endpoint_key) select k from unnest(array[${keyList}]::text[]) as k order by k on conflict do nothing`);
    // Lock first, count after, in two statements: under READ COMMITTED a statement that waited for
    // the lock still counts with the snapshot it started with, so it would miss the leases the
    // other claimer just committed and both would fill the same free slots.
    await tx.execute(sql`select 1 from ${endpointBreakers} where endpoint_key in (${keyList}) order by endpoint_key for update`);
    const states = await queryRows<{ endpoint_key: string; state: BreakerState; probe_due: boolean; in_flight: number | string }>(
      tx,
      sql`select b.endpoint_key, b.state, coalesce(b.next_probe_at <= now(), false) as probe_due,
            (select count(*) from "notification"."delivery_queue" q
              where q.endpoint_key = b.endpoint_key and q.state = 'PENDING' and q.leased_until > now()) as in_flight
          from ${endpointBreakers} b where b.endpoint_key in (${keyList}) order by b.endpoint_key`,
    );
    const probeCandidates: string[] = [];
    for (const row of states) {
      const free = Math.max(0, endpointLimit - Number(row.in_flight));
      if (row.state === "closed") admissions.set(row.endpoint_key, { slots: free, probe: false });
      else if (row.probe_due && free > 0) probeCandidates.push(row.endpoint_key);
      else admissions.set(row.endpoint_key, { slots: 0, probe: false });
    }
    if (probeCandidates.length > 0) {
      // The probe is held for a lease: if its replica dies before answering, another may take it then.
      const taken = await queryRows<{ endpoint_key: string; label: string; previous: BreakerState }>(
        tx,
        sql`with previous as (select endpoint_key, state from ${endpointBreakers} where endpoint_key in (${sql.join(
          probeCandidates.map((k) => sql`${k}`),
          sql`, `,
        )}))
            update ${endpointBreakers} b set state = 'half-open', next_probe_at = now() + ${probeLeaseMs}::double precision * interval '1 millisecond', updated_at = now()
            from previous p where b.endpoint_key = p.endpoint_key and b.state <> 'closed' and b.next_probe_at <= now()
            returning b.endpoint_key, b.label, p.state as previous`,
      );
      const takenKeys = new Set(taken.map((t) => t.endpoint_key));
      for (const key of probeCandidates) admissions.set(key, { slots: takenKeys.has(key) ? 1 : 0, probe: takenKeys.has(key) });
      for (const t of taken) if (t.previous !== "half-open") this.transition(t.label || t.endpoint_key, "half-open", t.previous);
    }
    return admissions;
  }

  /**
   * Counts an attempt's result. A retryable failure adds to the endpoint's consecutive failures and
   * opens it at the threshold (a failed probe reopens it at once); anything else (a 2xx, or a 4xx,
   * which is a healthy endpoint's answer) closes it and clears the count.
   */
  async record(endpoint: Endpoint, result: BreakerResult): Promise<void> {
    const reset = sql`now() + ${this.options.resetTimeoutMs}::double precision * interval '1 millisecond'`;
    const rows =
      result === "failure"
        ? await queryRows<{ state: BreakerState; previous: BreakerState }>(
            this.db,
            sql`with previous as (select endpoint_key, state from ${endpointBreakers} where endpoint_key = ${endpoint.key} for update)
                update ${endpointBreakers} b set
                  label = ${endpoint.label},
                  consecutive_failures = b.consecutive_failures + 1,
                  state = case when b.state = 'half-open' or (b.state = 'closed' and b.consecutive_failures + 1 >= ${this.options.failureThreshold}) then 'open' else b.state end,
                  opened_at = case when b.state = 'half-open' or (b.state = 'closed' and b.consecutive_failures + 1 >= ${this.options.failureThreshold}) then now() else b.opened_at end,
                  next_probe_at = case when b.state = 'half-open' or (b.state = 'closed' and b.consecutive_failures + 1 >= ${this.options.failureThreshold}) then ${reset} else b.next_probe_at end,
                  updated_at = now()
                from previous p where b.endpoint_key = p.endpoint_key
                returning b.state, p.state as previous`,
          )
        : // No row lock unless there is something to change: a healthy endpoint's breaker is closed
          // with no failures, and every delivery to it succeeding would otherwise queue on its one row
          // behind the claims that admit deliveries to it. An UPDATE skips a row its condition rules
          // out without waiting for it, and re-checks the condition on the latest version of a row
          // it does change; `previous` (read without a lock) only names the transition in the log.
          await queryRows<{ state: BreakerState; previous: BreakerState }>(
            this.db,
            sql`with previous as (select endpoint_key, state from ${endpointBreakers} where endpoint_key = ${endpoint.key})
                update ${endpointBreakers} b set label = ${endpoint.label}, state = 'closed', consecutive_failures = 0, opened_at = null, next_probe_at = null, updated_at = now()
                from previous p where b.endpoint_key = p.endpoint_key and (b.state <> 'closed' or b.consecutive_failures <> 0 or b.label <> ${endpoint.label})
                returning b.state, p.state as previous`,
          );
    const [row] = rows;
    if (row && row.state !== row.previous) this.transition(endpoint.label, row.state, row.previous);
  }

  /** Gives a probe back untried (its worker lost the lease before sending), so another claimer can take it now. */
  async releaseProbe(endpointKey: string): Promise<void> {
    await this.db.execute(sql`update ${endpointBreakers} set next_probe_at = now(), updated_at = now() where endpoint_key = ${endpointKey} and state = 'half-open'`);
  }

  /** When an endpoint's breaker lets its next probe through; undefined while closed. */
  async nextProbeAt(endpointKey: string): Promise<Date | undefined> {
    const [row] = await queryRows<{ next_probe_at: Date | string | null; state: BreakerState }>(
      this.db,
      sql`select state, next_probe_at from ${endpointBreakers} where endpoint_key = ${endpointKey}`,
    );
    if (!row || row.state === "closed" || row.next_probe_at === null) return undefined;
    return new Date(row.next_probe_at);
  }

  /**
   * Every endpoint's breaker state, by label, for the cloudforet_circuit_breaker_state gauge (read on
   * scrape: the rows are the truth for all replicas, so every replica reports the same states).
   * Rejects after `timeoutMs` so a stuck database cannot hold the scrape.
   */
  async states(timeoutMs = 2_000): Promise<Array<{ upstream: string; state: BreakerState }>> {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error("breaker states timed out")), timeoutMs)));
    try {
      const rows = await Promise.race([
        queryRows<{ endpoint_key: string; label: string; state: BreakerState }>(this.db, sql`select endpoint_key, label, state from ${endpointBreakers}`),
        timedOut,
      ]);
      return rows.map((row) => ({ upstream: row.label || row.endpoint_key, state: row.state }));
    } finally {
      clearTimeout(timer);
    }
  }

  private transition(label: string, state: BreakerState, previous: BreakerState): void {
    const log = this.options.logger;
    (state === "closed" ? log.info.bind(log) : log.warn.bind(log))({ endpoint: label, state, previous_state: previous }, `delivery circuit breaker ${state}`);
  }
}
