import type { JsonObject } from "@bufbuild/protobuf";
import { invalidParameter, missingParameter, notFound } from "@cloudforet/errors";
import type { Caller } from "@cloudforet/runtime";
import { assertCanWrite, scopeOf } from "../access/scope";
import type { PullCollection } from "../collection/pull-collection";
import type { CollectorRepository } from "../collectors/repository";
import { validateId, validateName, validateOptions } from "../collectors/rules";
import type { JobRow } from "../db/schema";
import type { IdentityDirectory, ServiceAccountInfo } from "../identity/identity-directory";
import { runningJobConflict, type JobStore } from "./job-store";

export interface LaunchRequest {
  collectorId: string;
  name: string;
  /** Empty: every account of the collector's provider in its workspace (Collect only). */
  serviceAccountIds: string[];
  options: JsonObject;
  /** "collect" (CollectorService.Collect) needs a plugin; "job" (JobService.Create) also serves push mode. */
  via: "job" | "collect";
}

const MAX_ACCOUNTS = 1000;
const MAX_TIMEOUT_S = 7 * 24 * 3600;

/**
 * Starts collection runs: checks the collector, the accounts (with identity, as the caller) and
 * that no other job of the collector is running, creates the job, and for a plugin-backed
 * collector creates one task per account and starts pulling in the background.
 */
export class JobLauncher {
  constructor(
    private readonly collectors: CollectorRepository,
    private readonly store: JobStore,
    private readonly identity: IdentityDirectory,
    private readonly pull: PullCollection,
    private readonly defaultTimeoutS: number,
  ) {}

  async launch(access: { caller: Caller; authorization: string | null }, request: LaunchRequest): Promise<JobRow> {
    if (!request.collectorId) throw missingParameter("collector_id");
    validateId("collector_id", request.collectorId);
    const scope = scopeOf(access.caller);
    const collector = await this.collectors.get(scope, request.collectorId);
    if (!collector) throw notFound("Collector not found", { collector_id: request.collectorId });
    assertCanWrite(access.caller, collector.workspaceId);
    if (request.via === "collect" && !collector.pluginEndpoint) {
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
    if (await this.store.runningJobOf(collector.domainId, collector.collectorId)) throw runningJobConflict(collector.collectorId);
    const job = await this.store.createJob({
      domainId: collector.domainId,
      workspaceId: collector.workspaceId,
      collectorId: collector.collectorId,
      name,
      serviceAccountIds: ids,
      options,
      timeoutAt: new Date(Date.now() + timeoutS * 1000),
    });
    if (!collector.pluginEndpoint) return job;
    const tasks = [];
    for (const account of accounts) {
      tasks.push(await this.store.createTask(scope, { jobId: job.jobId, serviceAccountId: account.serviceAccountId, secretId: account.secretId, status: "CREATED" }));
    }
    this.pull.start(job, collector, tasks, access.authorization);
    return job;
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
