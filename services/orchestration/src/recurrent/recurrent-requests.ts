// Over 300 lines on purpose: the recurrent-request domain and its SQL kept together until it gets its
// own repository.ts; the firing itself lives in recurrent-ticker.ts and recurrent-handler.ts.
import { inScope, ownerKey, ownerWhere, requireInScope, type Owner, type OwnerScope } from "../access/tenants";
import { createHash, randomUUID } from "node:crypto";
import { and, asc, count, eq, isNotNull, lte, sql, type SQL } from "drizzle-orm";
import type { Database, DatabaseExecutor } from "@cloudforet/db";
import { invalidParameter, missingParameter, notFound } from "@cloudforet/errors";
import type { OutboundPolicy } from "@cloudforet/outbound";
import type { Logger } from "pino";
import { recurrentRequests, sequences, type RecurrentRequestRow } from "../db/schema";
import type { Block } from "../definitions/blocks";
import type { EngineEvents } from "../engine/engine-events";
import { isUuid } from "../ids";
import type { Page } from "../instances/repository";
import type { Instances } from "../instances/instances";
import type { CredentialSealer } from "./credential-sealer";
import type { RecurrentServiceIdentities } from "./service-identities";
import { nextRunAfter, recurrenceOf, rpcBaseUrl, targetOf, type Recurrence } from "./recurrent-target";

export const RECURRENT_NAMESPACE = "recurrent-requests";
/** The sealed secret holding a run-as service identity's credential (never a header, never listed). */
const SERVICE_CREDENTIAL = "service_identity_credential";
export const RECURRENT_SEQUENCE_NAME = "__recurrent_request";
export const RECURRENT_HANDLER = "recurrent_request";
export const STATUSES = ["active", "paused"] as const;
export type RecurrentStatus = (typeof STATUSES)[number];

export interface NewRecurrentRequest extends Owner {
  name?: unknown;
  recurrence: unknown;
  target: unknown;
  status?: unknown;
  /** The creator's `Authorization` header: sealed for an rpc target that brings no token. */
  callerAuthorization?: string;
}

/** Fields of an update; undefined keeps the stored value. */
export interface RecurrentRequestPatch {
  name?: unknown;
  recurrence?: unknown;
  target?: unknown;
  status?: unknown;
  callerAuthorization?: string;
}

export interface RecurrentFilter extends OwnerScope {
  status?: unknown;
  name?: string;
}

export interface RecurrentSettings {
  /** The time (the cron clock; injectable for tests). */
  now(): Date;
  sealer: CredentialSealer;
  /** CLOUDFORET_<SERVICE>_URL of this engine, for rpc targets. */
  serviceUrls: Record<string, string>;
  /** Service identities rpc targets may run as (none without an identity URL). */
  serviceIdentities?: RecurrentServiceIdentities;
  /** Judges url targets when stored (CLOUDFORET_OUTBOUND_*; default: no allowlist). */
  outbound?: OutboundPolicy;
  /** Hears that instances were created (wakes the scheduler). */
  events: Pick<EngineEvents, "instancesDue">;
  /** Hears that a request was created or changed (the ticker looks at the run times again). */
  changed?: () => void;
  logger: Logger;
}

/** The call one fire makes (what the recurrent_request handler sends). */
export interface ResolvedCall {
  /** An rpc target: the call goes to an operator-configured platform service URL. */
  platform?: boolean;
  url: string;
  method: string;
  headers: Record<string, string>;
  body?: unknown;
}

/** Idempotency key of a scheduled fire: replicas firing the same due time create one instance. */
export const recurrentIdempotencyKey = (id: string, fireAt: Date) => `recurrent:${id}:${fireAt.toISOString()}`;

/**
 * The tenant's built-in sequence: one `recurrent_request` step (retried on 5xx/429/network errors
 * like http_request). Its id is derived from the tenant, so every replica creates the same one.
 */
export function builtinSequenceId(tenantId: string): string {
  const h = createHash("sha256").update(`cloudforet.orchestration.recurrent-request:${tenantId}`).digest("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${((parseInt(h[16], 16) & 0x3) | 0x8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

const BUILTIN_BLOCKS: Block[] = [
  {
    type: "step",
    id: "request",
    handler: RECURRENT_HANDLER,
    params: {},
    retry: { max_attempts: 3, initial_backoff: "1s", max_backoff: "30s", backoff_multiplier: 2 },
  } as Block,
];

function statusOf(value: unknown): RecurrentStatus | undefined {
  if (value === undefined || value === null || value === "") return undefined;
  if (typeof value !== "string" || !STATUSES.includes(value as RecurrentStatus)) throw invalidParameter('status must be "active" or "paused"', { parameter: "status", value: String(value) });
  return value as RecurrentStatus;
}

function nameOf(value: unknown, fallback?: string): string | undefined {
  if (value === undefined || value === null || value === "") return fallback;
  if (typeof value !== "string") throw invalidParameter("name must be a string", { parameter: "name" });
  if (value.length > 200) throw invalidParameter("name must be at most 200 characters", { parameter: "name" });
  return value;
}

/** The stored row's schedule. */
export function recurrenceOfRow(row: RecurrentRequestRow): Recurrence {
  return row.scheduleType === "cron" ? { scheduleType: "cron", cronExpression: row.cronExpression!, timezone: row.timezone } : { scheduleType: "interval", intervalSeconds: row.intervalSeconds! };
}

const scheduleColumns = (r: Recurrence) =>
  r.scheduleType === "interval"
    ? { scheduleType: "interval", intervalSeconds: r.intervalSeconds, cronExpression: null, timezone: "UTC" }
    : { scheduleType: "cron", intervalSeconds: null, cronExpression: r.cronExpression, timezone: r.timezone };

/**
 * Recurrent requests: CRUD, trigger-now, and `fireDue`, the unit of work of the recurrent ticker.
 * Each fire is an instance of the tenant's built-in sequence (namespace "recurrent-requests"), so
 * runs are listed, retried and dead-lettered like any other. Missed fires (no engine ran) fire
 * once on recovery, then the schedule resumes at its first due time after now.
 */
export class RecurrentRequests {
  constructor(
    private readonly db: Database,
    private readonly instances: Instances,
    private readonly settings: RecurrentSettings,
  ) {}

  async create(input: NewRecurrentRequest): Promise<RecurrentRequestRow> {
    const row = await this.createRow(input);
    this.settings.changed?.();
    return row;
  }

  /** Milliseconds until the earliest active request is due (by the settings' clock; undefined: none). */
  async msUntilNextDue(): Promise<number | undefined> {
    const [row] = await this.db
      .select({ at: sql<Date | string | null>`min(${recurrentRequests.nextRunAt})` })
      .from(recurrentRequests)
      .where(and(eq(recurrentRequests.status, "active"), isNotNull(recurrentRequests.nextRunAt)));
    if (row?.at === null || row?.at === undefined) return undefined;
    return new Date(row.at).getTime() - this.settings.now().getTime();
  }

  private async createRow(input: NewRecurrentRequest): Promise<RecurrentRequestRow> {
    const recurrence = recurrenceOf(input.recurrence);
    const { target, secrets } = targetOf(input.target, this.settings.serviceUrls, input.callerAuthorization, this.settings.outbound);
    await this.grantRunAs(target, secrets, input.callerAuthorization);
    const name = nameOf(input.name, `${target.method} ${(target.url ?? target.rpc) as string}`.slice(0, 200))!;
    const status = statusOf(input.status) ?? "active";
    const id = randomUUID();
    const now = this.settings.now();
    const [row] = await this.db
      .insert(recurrentRequests)
      .values({
        id,
        domainId: input.domainId,
        tenantId: input.tenantId,
        name,
        status,
        ...scheduleColumns(recurrence),
        target,
        sealedCredentials: Object.keys(secrets).length > 0 ? this.settings.sealer.seal(secrets, id) : null,
        nextRunAt: status === "active" ? nextRunAfter(recurrence, now, now) : null,
        createdAt: now,
        updatedAt: now,
      })
      .returning();
    return row;
  }

  async get(id: string, scope: OwnerScope | undefined, exec: DatabaseExecutor = this.db): Promise<RecurrentRequestRow> {
    const row = isUuid(id) ? (await exec.select().from(recurrentRequests).where(eq(recurrentRequests.id, id.toLowerCase())))[0] : undefined;
    return requireInScope(row, scope, "recurrent request", id);
  }

  async list(filter: RecurrentFilter, page: Page): Promise<{ results: RecurrentRequestRow[]; totalCount: number }> {
    const conditions: SQL[] = [];
    const owner = ownerWhere(recurrentRequests, filter);
    if (owner) conditions.push(owner);
    const status = statusOf(filter.status);
    if (status) conditions.push(eq(recurrentRequests.status, status));
    if (filter.name !== undefined) conditions.push(eq(recurrentRequests.name, filter.name));
    const where = and(...conditions);
    const results = await this.db.select().from(recurrentRequests).where(where).orderBy(asc(recurrentRequests.createdAt), asc(recurrentRequests.id)).offset(page.offset).limit(page.limit);
    const [{ n }] = await this.db.select({ n: count() }).from(recurrentRequests).where(where);
    return { results, totalCount: n };
  }

  /** Changes the given fields; a new recurrence, or paused → active, recomputes next_run_at from now. */
  async update(id: string, patch: RecurrentRequestPatch, scope?: OwnerScope): Promise<RecurrentRequestRow> {
    const row = await this.updateRow(id, patch, scope);
    this.settings.changed?.();
    return row;
  }

  private async updateRow(id: string, patch: RecurrentRequestPatch, scope?: OwnerScope): Promise<RecurrentRequestRow> {
    const name = nameOf(patch.name);
    const recurrence = patch.recurrence === undefined || patch.recurrence === null ? undefined : recurrenceOf(patch.recurrence);
    const parsedTarget = patch.target === undefined || patch.target === null ? undefined : targetOf(patch.target, this.settings.serviceUrls, patch.callerAuthorization, this.settings.outbound);
    const status = statusOf(patch.status);
    // Settled before the row is locked (a grant is a call to identity): a target that keeps its
    // workspace keeps its identity; a new workspace gets a new one.
    if (parsedTarget) await this.grantRunAs(parsedTarget.target, parsedTarget.secrets, patch.callerAuthorization, await this.runAsOf(id));
    return this.db.transaction(async (tx) => {
      const current = isUuid(id) ? (await tx.select().from(recurrentRequests).where(eq(recurrentRequests.id, id.toLowerCase())).for("update"))[0] : undefined;
      if (!current || !inScope(current, scope)) throw notFound("recurrent request not found", { id });
      const now = this.settings.now();
      const schedule = recurrence ?? recurrenceOfRow(current);
      const nextStatus = status ?? (current.status as RecurrentStatus);
      let nextRunAt = current.nextRunAt;
      if (nextStatus === "paused") nextRunAt = null;
      else if (recurrence || current.status !== "active") nextRunAt = nextRunAfter(schedule, now, now);
      const fields: Partial<typeof recurrentRequests.$inferInsert> = { status: nextStatus, nextRunAt, updatedAt: now, ...scheduleColumns(schedule) };
      if (name !== undefined) fields.name = name;
      if (parsedTarget) {
        fields.target = parsedTarget.target;
        fields.sealedCredentials = Object.keys(parsedTarget.secrets).length > 0 ? this.settings.sealer.seal(parsedTarget.secrets, current.id) : null;
      }
      const [row] = await tx.update(recurrentRequests).set(fields).where(eq(recurrentRequests.id, current.id)).returning();
      return row;
    });
  }

  async delete(id: string, scope?: OwnerScope): Promise<void> {
    const conditions = [eq(recurrentRequests.id, isUuid(id) ? id.toLowerCase() : "00000000-0000-0000-0000-000000000000")];
    const owner = ownerWhere(recurrentRequests, scope);
    if (owner) conditions.push(owner);
    const deleted = await this.db.delete(recurrentRequests).where(and(...conditions)).returning({ id: recurrentRequests.id });
    if (deleted.length === 0) throw notFound("recurrent request not found", { id });
  }

  /** Fires now (paused ones too), leaving next_run_at alone; returns the new instance's id. */
  async trigger(id: string, scope?: OwnerScope): Promise<string> {
    const instanceId = await this.db.transaction(async (tx) => {
      const current = isUuid(id) ? (await tx.select().from(recurrentRequests).where(eq(recurrentRequests.id, id.toLowerCase())).for("update"))[0] : undefined;
      if (!current || !inScope(current, scope)) throw notFound("recurrent request not found", { id });
      const now = this.settings.now();
      return this.fire(tx, current, now, `recurrent:${current.id}:trigger:${randomUUID()}`, { nextRunAt: current.nextRunAt });
    });
    this.settings.events.instancesDue(1);
    return instanceId;
  }

  /**
   * Fires the due requests (up to `batch`): claims them with FOR UPDATE SKIP LOCKED and, in one
   * transaction, creates one instance per due time (idempotency key `recurrent:<id>:<due time>`)
   * and advances next_run_at past now. Returns how many were claimed and created.
   */
  async fireDue(batch = 32): Promise<{ claimed: number; created: number }> {
    const now = this.settings.now();
    const result = await this.db.transaction(async (tx) => {
      const due = await tx
        .select()
        .from(recurrentRequests)
        .where(and(eq(recurrentRequests.status, "active"), isNotNull(recurrentRequests.nextRunAt), lte(recurrentRequests.nextRunAt, now)))
        .orderBy(asc(recurrentRequests.nextRunAt))
        .limit(batch)
        .for("update", { skipLocked: true });
      for (const row of due) {
        const fireAt = row.nextRunAt!;
        let nextRunAt: Date | null = null;
        try {
          nextRunAt = nextRunAfter(recurrenceOfRow(row), fireAt, now > fireAt ? now : fireAt);
        } catch (err) {
          this.settings.logger.error({ err, recurrent_request_id: row.id }, "recurrent request schedule cannot be evaluated; it stops firing");
        }
        await this.fire(tx, row, now, recurrentIdempotencyKey(row.id, fireAt), { nextRunAt, fireAt });
      }
      return { claimed: due.length, created: due.length };
    });
    if (result.created > 0) this.settings.events.instancesDue(result.created);
    return result;
  }

  /** Creates the instance of one fire and records it on the row (inside the caller's transaction). */
  private async fire(tx: DatabaseExecutor, row: RecurrentRequestRow, now: Date, idempotencyKey: string, next: { nextRunAt: Date | null; fireAt?: Date }): Promise<string> {
    const sequenceId = await this.ensureSequence(tx, row);
    const prepared = this.instances.prepare({
      sequenceId,
      domainId: row.domainId,
      tenantId: row.tenantId,
      namespace: RECURRENT_NAMESPACE,
      metadata: { recurrent_request_id: row.id, recurrent_request_name: row.name },
      context: { data: { recurrent_request_id: row.id, due_at: (next.fireAt ?? now).toISOString() } },
      idempotencyKey,
      nextFireAt: now,
    });
    const { id: instanceId, deduplicated } = await this.instances.insertOrFind(prepared, tx);
    await tx
      .update(recurrentRequests)
      .set({
        nextRunAt: next.nextRunAt,
        lastRunAt: now,
        lastInstanceId: instanceId,
        runCount: deduplicated ? row.runCount : row.runCount + 1,
        updatedAt: now,
      })
      .where(eq(recurrentRequests.id, row.id));
    return instanceId;
  }

  /** Creates the tenant's built-in sequence once (every replica derives the same id; a race is a no-op). */
  private readonly knownSequences = new Set<string>();
  private async ensureSequence(tx: DatabaseExecutor, { domainId, tenantId }: Owner): Promise<string> {
    const id = builtinSequenceId(ownerKey({ domainId, tenantId }));
    if (this.knownSequences.has(id)) return id;
    await tx.insert(sequences).values({ id, domainId, tenantId, namespace: RECURRENT_NAMESPACE, name: RECURRENT_SEQUENCE_NAME, version: 1, blocks: BUILTIN_BLOCKS }).onConflictDoNothing();
    const [found] = await tx.select({ id: sequences.id }).from(sequences).where(eq(sequences.id, id));
    if (!found) throw new Error(`the built-in sequence of tenant ${tenantId} could not be created`);
    this.knownSequences.add(id);
    return id;
  }

  /**
   * For a target that runs as a workspace's service identity: its credential, sealed with the
   * secrets. The stored request's own (`current`) when it runs as the same workspace already, else
   * granted now as the caller.
   */
  private async grantRunAs(
    target: Record<string, unknown>,
    secrets: Record<string, string>,
    callerAuthorization: string | undefined,
    current?: { workspaceId: string; credential: string },
  ): Promise<void> {
    const workspaceId = target.run_as_workspace_id;
    if (typeof workspaceId !== "string") return;
    if (current?.workspaceId === workspaceId) {
      secrets[SERVICE_CREDENTIAL] = current.credential;
      return;
    }
    if (!this.settings.serviceIdentities) {
      throw invalidParameter("target.run_as_workspace_id needs this engine to reach identity: set CLOUDFORET_IDENTITY_URL", { parameter: "target.run_as_workspace_id" });
    }
    secrets[SERVICE_CREDENTIAL] = await this.settings.serviceIdentities.grant(workspaceId, callerAuthorization);
  }

  /** The workspace identity a stored request runs as, with its credential; undefined when none (or no such request). */
  private async runAsOf(id: string): Promise<{ workspaceId: string; credential: string } | undefined> {
    if (!isUuid(id)) return undefined;
    const [row] = await this.db.select().from(recurrentRequests).where(eq(recurrentRequests.id, id.toLowerCase()));
    const workspaceId = (row?.target as { run_as_workspace_id?: string } | undefined)?.run_as_workspace_id;
    if (!row || !workspaceId || !row.sealedCredentials) return undefined;
    const credential = this.settings.sealer.open(row.sealedCredentials, row.id)[SERVICE_CREDENTIAL];
    return credential ? { workspaceId, credential } : undefined;
  }

  /**
   * The call a fire of `id` makes now (the recurrent_request handler's input): the stored target
   * with its sealed headers opened. Throws a plain Error (a permanent step failure) when the
   * request is gone or its credentials do not open.
   */
  async resolveCall(id: unknown, owner: Owner): Promise<ResolvedCall> {
    if (!isUuid(id)) throw missingParameter("recurrent_request_id");
    const [row] = await this.db.select().from(recurrentRequests).where(and(eq(recurrentRequests.id, id.toLowerCase()), ownerWhere(recurrentRequests, owner)));
    if (!row) throw new Error(`recurrent request ${id} no longer exists`);
    const target = row.target as { url?: string; rpc?: string; method: string; headers?: Record<string, string>; json?: unknown };
    const { [SERVICE_CREDENTIAL]: credential, ...sealedHeaders } = row.sealedCredentials ? this.settings.sealer.open(row.sealedCredentials, row.id) : {};
    if (credential) {
      if (!this.settings.serviceIdentities) throw new Error("this engine has no identity URL to act as the request's service identity");
      sealedHeaders.authorization = await this.settings.serviceIdentities.authorizationFor(credential);
    }
    const headers = { ...(target.headers ?? {}), ...sealedHeaders };
    if (target.rpc) {
      // Connect unary JSON: POST <base>/<package.Service>/<Method> with the request message as JSON.
      const base = rpcBaseUrl(target.rpc, this.settings.serviceUrls);
      return { platform: true, url: `${base}/${target.rpc}`, method: "POST", headers: { "content-type": "application/json", "connect-protocol-version": "1", ...headers }, body: target.json ?? {} };
    }
    return { url: target.url!, method: target.method, headers, body: target.json };
  }
}
