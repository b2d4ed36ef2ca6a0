import os from "node:os";
import { asc, count, eq, sql } from "drizzle-orm";
import type { Database } from "@cloudforet/db";
import { notFound, permissionDenied } from "@cloudforet/errors";
import type { Caller } from "@cloudforet/runtime";
import type { Logger } from "pino";
import { intFrom } from "../breakers/breaker-config";
import { clusterNodes, type ClusterNodeRow } from "../db/schema";
import { Periodic } from "../engine/periodic";
import type { Page } from "../instances/repository";

/** ORCHESTRATION_NODE_HEARTBEAT_MS: how often a replica heartbeats its node row (500–60000, default 15000: an idle replica writes next to nothing). */
export const nodeHeartbeatMsFromEnv = (env: NodeJS.ProcessEnv) => intFrom(env, "ORCHESTRATION_NODE_HEARTBEAT_MS", 15_000, 500, 60_000);

/**
 * ORCHESTRATION_OPERATOR_DOMAINS: the domains whose DOMAIN_ADMINs run the engine (list and drain its
 * nodes). The cluster is shared by every domain, so no tenant domain may drain it; unset, no one can
 * over an authenticated API (operators restart a replica instead).
 */
export const operatorDomainsFromEnv = (env: NodeJS.ProcessEnv): ReadonlySet<string> =>
  new Set((env.ORCHESTRATION_OPERATOR_DOMAINS ?? "").split(",").map((d) => d.trim()).filter(Boolean));

export interface ClusterOptions {
  db: Database;
  /** This replica's id (the engine id that also marks its claims). */
  nodeId: string;
  heartbeatMs: number;
  logger: Logger;
  /** Asked to drain: stop claiming, finish what runs (the scheduler's stop). */
  drain: () => Promise<void>;
  /** Domains allowed to see and drain nodes (ORCHESTRATION_OPERATOR_DOMAINS); default none. */
  operatorDomains?: ReadonlySet<string>;
}

/**
 * The replicas sharing this database (the engine's cluster nodes): each registers itself at start,
 * heartbeats its row, and is marked stopped when it shuts down. Draining a node sets its `drain`
 * flag; the node sees it at its next heartbeat (at once when it is this process), stops claiming
 * new instances and finishes those it runs (status `draining`), while the others take the work.
 */
export class ClusterMembership {
  private readonly loop: Periodic;
  private draining = false;
  /** The REST URL this replica serves (set by the service once it listens). */
  address: string | null = null;

  constructor(private readonly options: ClusterOptions) {
    this.loop = new Periodic({ run: () => this.heartbeat(), nextDelayMs: () => options.heartbeatMs, logger: options.logger, what: "cluster heartbeat" });
  }

  /** PERMISSION_DENIED unless the caller is of an operator domain (no caller: an unauthenticated embedding, as in tests). */
  requireOperator(caller: Caller | undefined): void {
    if (caller && !this.options.operatorDomains?.has(caller.domainId)) {
      throw permissionDenied("Cluster nodes are shared by every domain: only an operator domain (ORCHESTRATION_OPERATOR_DOMAINS) may list or drain them");
    }
  }

  get nodeId(): string {
    return this.options.nodeId;
  }

  async start(): Promise<void> {
    await this.options.db
      .insert(clusterNodes)
      .values({ id: this.options.nodeId, name: os.hostname(), address: this.address, status: "active" })
      .onConflictDoUpdate({ target: clusterNodes.id, set: { status: "active", drain: false, lastHeartbeatAt: sql`now()`, address: this.address } });
    this.options.logger.info({ node_id: this.options.nodeId }, "cluster node registered");
    this.loop.start(this.options.heartbeatMs);
  }

  async list(page: Page): Promise<{ results: ClusterNodeRow[]; totalCount: number }> {
    const [results, [{ total }]] = await Promise.all([
      this.options.db.select().from(clusterNodes).orderBy(asc(clusterNodes.registeredAt), asc(clusterNodes.id)).offset(page.offset).limit(page.limit),
      this.options.db.select({ total: count() }).from(clusterNodes),
    ]);
    return { results, totalCount: Number(total) };
  }

  /** Asks a node to drain (idempotent); NOT_FOUND for an unknown node. */
  async drain(id: string): Promise<ClusterNodeRow> {
    const [row] = await this.options.db
      .update(clusterNodes)
      .set({ drain: true, status: sql`case when ${clusterNodes.status} = 'stopped' then 'stopped' else 'draining' end` })
      .where(eq(clusterNodes.id, id))
      .returning();
    if (!row) throw notFound(`cluster node ${id} not found`, { id });
    this.options.logger.info({ node_id: id }, "cluster node asked to drain");
    if (id === this.options.nodeId) await this.beginDrain();
    return row;
  }

  async stop(): Promise<void> {
    await this.loop.stop();
    await this.options.db
      .update(clusterNodes)
      .set({ status: "stopped", lastHeartbeatAt: sql`now()` })
      .where(eq(clusterNodes.id, this.options.nodeId))
      .catch((err) => this.options.logger.warn({ err }, "could not mark this cluster node stopped"));
  }

  private async heartbeat(): Promise<void> {
    const [row] = await this.options.db
      .update(clusterNodes)
      .set({ lastHeartbeatAt: sql`now()` })
      .where(eq(clusterNodes.id, this.options.nodeId))
      .returning({ drain: clusterNodes.drain });
    if (!row) {
      // Deleted by hand: register again.
      await this.options.db.insert(clusterNodes).values({ id: this.options.nodeId, name: os.hostname(), address: this.address, status: this.draining ? "draining" : "active", drain: this.draining }).onConflictDoNothing();
      return;
    }
    if (row.drain) await this.beginDrain();
  }

  private async beginDrain(): Promise<void> {
    if (this.draining) return;
    this.draining = true;
    this.options.logger.warn({ node_id: this.options.nodeId }, "draining: no new instances are claimed here; running ones finish");
    // Not awaited: the scheduler's stop waits for running passes, and a drain request answers at once.
    void this.options.drain().catch((err) => this.options.logger.error({ err }, "draining failed"));
  }
}
