import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import { missingParameter, notFound } from "@cloudforet/errors";
import { JobService, JobServiceWatchResponse_Kind } from "@cloudforet/proto/cloudforet/inventory/v1/job_pb";
import { callerOf, requireWorkspaceAccess } from "@cloudforet/runtime";
import type { PullCollection } from "../collection/pull-collection";
import { validateId } from "../collectors/collectors";
import { jobFromEvent, taskFromEvent } from "./job-events";
import type { JobLauncher } from "./job-launcher";
import type { JobWatchHub } from "./job-watch";
import { isFinal } from "./status";
import { taskMessage } from "../job-tasks/to-message";
import type { JobRepository } from "./repository";
import { jobCreatedMessage, jobListMessage, jobMessage } from "./to-message";
import { tenantScope } from "@cloudforet/query";

export interface JobDeps {
  jobs: JobRepository;
  launcher: JobLauncher;
  pull: PullCollection;
  hub: JobWatchHub;
}

function requireJobId(id: string): string {
  if (!id) throw missingParameter("job_id");
  return validateId("job_id", id);
}

const authorizationOf = (ctx: HandlerContext) => ctx.requestHeader.get("authorization");

export function jobHandlers({ jobs, launcher, pull, hub }: JobDeps): ServiceImpl<typeof JobService> {
  return {
    async create(req, ctx) {
      const job = await launcher.launch(
        { caller: callerOf(ctx), authorization: authorizationOf(ctx) },
        { collectorId: req.collectorId, name: req.name, serviceAccountIds: req.serviceAccountIds, options: req.options ?? {}, via: "job" },
      );
      return jobCreatedMessage(job);
    },

    async get(req, ctx) {
      const id = requireJobId(req.jobId);
      const job = await jobs.getJob(tenantScope(callerOf(ctx)), id);
      if (!job) throw notFound("Job not found", { job_id: id });
      return jobMessage(job);
    },

    async list(req, ctx) {
      const { results, total_count } = await jobs.listJobs(tenantScope(callerOf(ctx)), req.query ?? {});
      return { results: results.map(jobListMessage), totalCount: total_count };
    },

    async cancel(req, ctx) {
      const id = requireJobId(req.jobId);
      const caller = callerOf(ctx);
      const current = await jobs.getJob(tenantScope(caller), id);
      if (!current) throw notFound("Job not found", { job_id: id });
      requireWorkspaceAccess(caller, current.workspaceId, "write");
      const job = await jobs.cancelJob(tenantScope(caller), id);
      pull.stop(id);
      return jobMessage(job);
    },

    async *watch(req, ctx) {
      const id = requireJobId(req.jobId);
      const scope = tenantScope(callerOf(ctx));
      if (!(await jobs.getJob(scope, id))) throw notFound("Job not found", { job_id: id });
      const stop = new AbortController();
      const onAbort = () => stop.abort();
      ctx.signal.addEventListener("abort", onAbort, { once: true });
      try {
        // Follow first, then read: a change between the two is buffered, and skipped if the snapshot has it.
        const changes = hub.follow(id, stop.signal);
        const snapshot = await jobs.getJob(scope, id);
        if (!snapshot) throw notFound("Job not found", { job_id: id });
        yield { kind: JobServiceWatchResponse_Kind.SNAPSHOT, job: jobMessage(snapshot), eventTime: timestampFromDate(new Date()) };
        if (isFinal(snapshot.status)) return;
        let version = snapshot.version;
        for await (const change of changes) {
          if ("missed" in change) {
            // The bus lost events of this job: the database says where it is now.
            const current = await jobs.getJob(scope, id);
            if (!current || current.version <= version) continue;
            version = current.version;
            yield { kind: JobServiceWatchResponse_Kind.SNAPSHOT, job: jobMessage(current), eventTime: timestampFromDate(new Date()) };
            if (isFinal(current.status)) return;
            continue;
          }
          if (change.data.version <= version) continue;
          version = change.data.version;
          const job = jobFromEvent(change.data.job);
          const task = change.data.task ? taskFromEvent(change.data.task) : undefined;
          yield {
            kind: task ? JobServiceWatchResponse_Kind.TASK_UPDATED : JobServiceWatchResponse_Kind.JOB_UPDATED,
            job: jobMessage(job),
            task: task ? taskMessage(task) : undefined,
            eventTime: timestampFromDate(new Date(change.occurredAt)),
          };
          if (isFinal(job.status)) return;
        }
      } finally {
        ctx.signal.removeEventListener("abort", onAbort);
        stop.abort();
      }
    },
  };
}
