import type { JsonObject } from "@bufbuild/protobuf";
import { ErrorCode, invalidParameter, missingParameter, notFound, PlatformError } from "@cloudforet/errors";
import { type Caller, requireWorkspaceAccess } from "@cloudforet/runtime";
import type { Logger } from "pino";
import type { CollectionCredentials } from "../collection/collection-credentials";
import type { PullCollection } from "../collection/pull-collection";
import type { CollectorRepository } from "../collectors/repository";
import { validateId, validateName, validateOptions } from "../collectors/collectors";
import type { CollectorRow, JobRow } from "../db/schema";
import type { IdentityDirectory, ServiceAccountInfo } from "../identity-directory";
import type { JobTasks } from "../job-tasks/job-tasks";
import { newJobId, runningJobConflict, type JobRepository, type Tx } from "./repository";
import { tenantScope } from "@cloudforet/query";
import { hasPlugin } from "../plugins/plugin-router";

export interface LaunchRequest {
  collectorId: string;
  name: string;
  /** Empty: every account of the collector's provider in its workspace (Collect only). */
  serviceAccountIds: string[];
  options: JsonObject;
  /** "collect" (CollectorService.Collect) needs a plugin; "job" (JobService.Create) also serves push mode. */
  via: "job" | "collect";
}

/** Who asks: the caller and its Authorization header; `startedBy` overrides the caller's id on the job ("schedule"). */
export interface LaunchAccess {
  caller: Caller;
  authorization: string | null;
  startedBy?: string;
  /** The collector's service identity credential, when the caller is that identity (a scheduled fire). */
  serviceCredential?: string;
}

const MAX_ACCOUNTS = 1000;
const MAX_TIMEOUT_S = 7 * 24 * 3600;

/**
 * Starts collection runs: checks the collector, the accounts (with identity, as the caller) and
 * that no other job of the collector is running, creates the job, and for a plugin-backed
 * collector creates one pull task per account, claimable by any replica, and wakes this
 * replica's claim loop so that it usually starts here at once.
 */
export class JobLauncher {
  constructor(
    private readonly collectors: CollectorRepository,
    private readonly jobs: JobRepository,
    private readonly tasks: JobTasks,
    private readonly identity: IdentityDirectory,
    private readonly pull: PullCollection,
    private readonly defaultTimeoutS: number,
    private readonly credentials: CollectionCredentials,
    private readonly logger: Logger,
  ) {}

  async launch(access: LaunchAccess, request: LaunchRequest): Promise<JobRow> {
    if (!request.collectorId) throw missingParameter("collector_id");
    validateId("collector_id", request.collectorId);
    const scope = tenantScope(access.caller);
    const collector = await this.collectors.get(scope, request.collectorId);
    if (!collector) throw notFound("Collector not found", { collector_id: request.collectorId });
    requireWorkspaceAccess(access.caller, collector.workspaceId, "write");
    if (request.via === "collect" && !hasPlugin(collector)) {
      throw invalidParameter("The collector is push-only: it has no plugin endpoint to collect from", { parameter: "collector_id", value: collector.collectorId });
    }
    const name = request.name ? validateName(request.name) : `${collector.name} collection`.slice(0, 255);
    const options = validateOptions(request.options, "options");
    const timeoutS = timeoutOf(options, this.defaultTimeoutS);
    let ids = [...new Set(request.serviceAccountIds)];
    if (ids.length === 0) {
      if (request.via === "job") throw missingParameter("service_account_ids");
      ids = await this.identity.serviceAccountsOf(collector.provider, collector.workspaceId, access.authorization);
      if (ids.length === 0) throw invalidParameter("The collector's workspace has no service accounts of its provider", { parameter: "service_account_ids" });
    }
    if (ids.length > MAX_ACCOUNTS) throw invalidParameter(`at most ${MAX_ACCOUNTS} service accounts per job`, { parameter: "service_account_ids" });
    for (const id of ids) {
      if (!id) throw invalidParameter("Service account not found or not accessible", { parameter: "service_account_ids", service_account_id: "" });
      validateId("service_account_ids", id);
    }
    const accounts = await this.checkAccounts(ids, collector.provider, collector.workspaceId, access.authorization);
    if (await this.jobs.runningJobOf(collector.domainId, collector.collectorId)) throw runningJobConflict(collector.collectorId);
    const jobId = newJobId();
    // Pull jobs run under the collector's service identity, so they outlive the caller's token and the caller.
    const serviceCredential = hasPlugin(collector) ? (access.serviceCredential ?? (await this.serviceCredentialOf(collector, access.authorization))) : undefined;
    // The job and its pull tasks commit together.
    const createTasks = async (tx: Tx) => {
      for (const account of accounts) {
        await this.tasks.createTaskIn(tx, scope, { jobId, serviceAccountId: account.serviceAccountId, secretId: account.secretId, status: "CREATED", pull: true });
      }
    };
    const job = await this.jobs.createJob({
      jobId,
      startedBy: access.startedBy ?? access.caller.userId,
      // Sealed for pull only: a push job's tasks are reported by the plugin itself.
      sealedAuthorization: hasPlugin(collector) ? this.pull.sealAuthorization(access.authorization, jobId, serviceCredential) : null,
      domainId: collector.domainId,
      workspaceId: collector.workspaceId,
      collectorId: collector.collectorId,
      name,
      serviceAccountIds: ids,
      options,
      timeoutAt: new Date(Date.now() + timeoutS * 1000),
    }, hasPlugin(collector) ? createTasks : undefined);
    if (hasPlugin(collector)) this.pull.kick();
    return job;
  }

  /**
   * The collector's service identity credential, granted (as the caller, who owns the workspace) and
   * kept on the collector the first time it is needed. A caller identity refuses (or an identity that
   * cannot grant) leaves the job on the caller's own token, as before service identities.
   */
  async serviceCredentialOf(collector: CollectorRow, authorization: string | null): Promise<string | undefined> {
    try {
      return await this.usableServiceCredential(collector, authorization);
    } catch (err) {
      this.logger.warn({ err, collector_id: collector.collectorId, workspace_id: collector.workspaceId }, "no service identity for the collector: its job runs on the caller's token");
      return undefined;
    }
  }

  /**
   * The collector's kept credential while identity still honours it; else (none kept, or it was
   * revoked) a new grant as the caller. Throws when the caller may not grant.
   */
  async usableServiceCredential(collector: CollectorRow, authorization: string | null): Promise<string> {
    const kept = this.credentials.openServiceCredential(collector.sealedServiceCredential, collector.domainId, collector.collectorId);
    if (kept) {
      try {
        await this.credentials.authorizationFor(kept);
        return kept;
      } catch (err) {
        if (!(err instanceof PlatformError) || err.code !== ErrorCode.AUTHENTICATE_FAILURE) throw err;
        this.logger.warn({ collector_id: collector.collectorId }, "the collector's service identity was revoked: granting a new one");
      }
    }
    return this.grantServiceIdentity(collector, authorization);
  }

  /** Grants the collector's workspace identity as the caller and keeps its credential, sealed, on the collector. */
  async grantServiceIdentity(collector: CollectorRow, authorization: string | null): Promise<string> {
    const credential = await this.identity.grantServiceIdentity(collector.workspaceId, authorization);
    await this.collectors.storeServiceCredential(collector.domainId, collector.collectorId, this.credentials.sealServiceCredential(credential, collector.domainId, collector.collectorId));
    return credential;
  }

  /** Every account must exist for the caller, belong to the collector's provider and workspace. */
  private async checkAccounts(ids: string[], provider: string, workspaceId: string, authorization: string | null): Promise<ServiceAccountInfo[]> {
    const accounts: ServiceAccountInfo[] = [];
    for (let i = 0; i < ids.length; i += 8) {
      const slice = ids.slice(i, i + 8);
      const found = await Promise.all(slice.map((id) => this.identity.serviceAccount(id, authorization)));
      found.forEach((account, j) => {
        if (!account || account.provider !== provider || account.workspaceId !== workspaceId) {
          throw invalidParameter("Service account not found or not accessible", { parameter: "service_account_ids", service_account_id: slice[j] });
        }
        accounts.push(account);
      });
    }
    return accounts;
  }
}

/** `options.timeout` in seconds, when given; the service default otherwise. */
function timeoutOf(options: JsonObject, fallback: number): number {
  const timeout = options.timeout;
  if (timeout === undefined || timeout === null) return fallback;
  if (typeof timeout !== "number" || !Number.isFinite(timeout) || timeout <= 0 || timeout > MAX_TIMEOUT_S) {
    throw invalidParameter(`options.timeout must be a number of seconds between 0 and ${MAX_TIMEOUT_S}`, { parameter: "options.timeout" });
  }
  return timeout;
}
