import { Job_Status, type Job } from "@cloudforet/proto/cloudforet/inventory/v1/job_pb";
import { JobTask_Status } from "@cloudforet/proto/cloudforet/inventory/v1/job_task_pb";
import type { Client, JobHandle } from "@cloudforet/sdk";
import { CliError, UsageError } from "../cli-error";
import { clientOf, parseCommandArgs, type Command, type CommandContext } from "../command";

export const jobCommand: Command = {
  name: "job",
  help: `Usage: cfctl job watch <job-id>

Follows a collection job until it ends (JobService.Watch). On a terminal: a live progress bar
with the percentage, tasks done/total and the created/updated/failed counts; otherwise one
line per change. Exits 0 when the job FINISHED, 1 with the job's error when it ended
FAILURE, CANCELED or TIMEOUT.
`,
  async run(ctx) {
    const { values, positionals } = parseCommandArgs(ctx, "job", {});
    if (values.help) return ctx.stdout.write(this.help), 0;
    if (positionals[0] !== "watch" || positionals.length !== 2) throw new UsageError("usage: cfctl job watch <job-id>", "job");
    const client = await clientOf(ctx);
    return watchJob(ctx, client, await client.inventory.jobs.get(positionals[1]));
  },
};

export const collectCommand: Command = {
  name: "collect",
  help: `Usage: cfctl collect <collector-id> [--service-account ID ...] [--watch]

Starts a pull collection (CollectorService.Collect) and prints its job id, so that
JOB=$(cfctl collect nutanix) works. Without --service-account every account of the
collector's provider in its workspace is collected. --watch follows the job as
cfctl job watch does (and exits as it does).
`,
  async run(ctx) {
    const { values, positionals } = parseCommandArgs(ctx, "collect", {
      "service-account": { type: "string", multiple: true },
      watch: { type: "boolean" },
    });
    if (values.help) return ctx.stdout.write(this.help), 0;
    if (positionals.length !== 1) throw new UsageError("usage: cfctl collect <collector-id>", "collect");
    const client = await clientOf(ctx);
    const job = await client.inventory.collectors.collect(positionals[0], { serviceAccountIds: values["service-account"] ?? [] });
    ctx.stdout.write(`${job.id}\n`);
    return values.watch ? watchJob(ctx, client, job) : 0;
  },
};

/** The job's progress as one line: percentage, tasks and counters. */
export function progressLine(job: Job, bar: boolean): string {
  const done = job.succeededTaskCount + job.failedTaskCount;
  const tasks = `tasks ${done}/${job.totalTaskCount}${job.failedTaskCount ? ` (${job.failedTaskCount} failed)` : ""}`;
  const counts = `created ${job.createdCount}  updated ${job.updatedCount}  failed ${job.errorCount}`;
  const status = Job_Status[job.status];
  if (!bar) return `${job.jobId} ${status} ${job.progress}% ${tasks} created=${job.createdCount} updated=${job.updatedCount} failed=${job.errorCount}`;
  const width = 24;
  const filled = Math.round((Math.min(100, Math.max(0, job.progress)) / 100) * width);
  return `[${"#".repeat(filled)}${"-".repeat(width - filled)}] ${String(job.progress).padStart(3)}%  ${tasks}  ${counts}  ${status}`;
}

/**
 * Follows a job to its end. The stream is opened again after a dropped connection (the
 * job goes on without us), so a restart of inventory does not end the watch.
 */
export async function watchJob(ctx: CommandContext, client: Client, job: JobHandle): Promise<number> {
  const { ConnectionError, ServerError, isFinalJobStatus } = await import("@cloudforet/sdk");
  const bar = ctx.isTTY;
  let last = "";
  const show = () => {
    const line = progressLine(job.data, bar);
    if (line === last) return;
    last = line;
    ctx.stdout.write(bar ? `\r\u001b[2K${line}` : `${line}\n`);
  };
  show();
  for (let reconnects = 0; !job.done; ) {
    try {
      for await (const _ of job.watch()) show();
      if (!job.done) await job.refresh();
    } catch (err) {
      if (!(err instanceof ConnectionError || err instanceof ServerError) || ++reconnects > 5) throw err;
      await new Promise((resolve) => setTimeout(resolve, 1000));
      await job.refresh().catch(() => undefined);
    }
  }
  show();
  if (bar) ctx.stdout.write("\n");
  const final = job.data;
  const status = Job_Status[final.status];
  if (final.status === Job_Status.FINISHED) {
    ctx.stdout.write(`job ${final.jobId} FINISHED: created ${final.createdCount}, updated ${final.updatedCount}, deleted ${final.deletedCount}, failed ${final.errorCount}\n`);
    return 0;
  }
  if (!isFinalJobStatus(final.status)) throw new CliError("ERROR_UNKNOWN", `job ${final.jobId} is still ${status}`);
  throw await jobError(client, final);
}

/** The job's error: the first failed task's own error code and message when it has one. */
async function jobError(client: Client, job: Job): Promise<CliError> {
  const status = Job_Status[job.status];
  let taskError: string | undefined;
  for await (const task of client.inventory.jobTasks.list({ filter: [{ k: "job_id", v: job.jobId }] })) {
    if (task.data.status !== JobTask_Status.FINISHED && task.data.errors.length > 0) {
      taskError = task.data.errors[0];
      break;
    }
  }
  const coded = taskError?.match(/^(ERROR_[A-Z_]+):\s*(.*)$/s);
  const code = coded ? coded[1] : job.status === Job_Status.TIMEOUT ? "ERROR_TIMEOUT" : job.status === Job_Status.CANCELED ? "ERROR_CANCELED" : "ERROR_JOB_FAILURE";
  const detail = coded ? coded[2] : taskError;
  return new CliError(code, `job ${job.jobId} ended ${status}${detail ? `: ${detail}` : ""}`, `cfctl list job-tasks --filter job_id=${job.jobId} -o yaml shows each task's errors`);
}
