import { createClient } from "@connectrpc/connect";
import { useTransport } from "@connectrpc/connect-query";
import { useQueryClient } from "@tanstack/react-query";
import { Job_Status, JobService, type Job } from "@cloudforet/proto/cloudforet/inventory/v1/job_pb";
import { JobTask_Status, type JobTask } from "@cloudforet/proto/cloudforet/inventory/v1/job_task_pb";
import { useEffect, useState } from "react";
import { Drawer } from "../../components/Drawer";
import { ErrorPanel } from "../../components/ErrorPanel";
import { PropList } from "../../components/PropList";
import { Loading } from "../../components/States";
import { formatTime } from "../../lib/format";

const TERMINAL = new Set([Job_Status.FINISHED, Job_Status.FAILURE, Job_Status.CANCELED, Job_Status.TIMEOUT]);

/** A job followed live through JobService.Watch (a server stream): its progress, counters and tasks. */
export function JobWatch({ jobId, onClose }: { jobId: string; onClose: () => void }) {
  const transport = useTransport();
  const queryClient = useQueryClient();
  const [job, setJob] = useState<Job | undefined>();
  const [tasks, setTasks] = useState<Map<string, JobTask>>(new Map());
  const [error, setError] = useState<unknown>(null);
  const [attempt, setAttempt] = useState(0);

  useEffect(() => {
    const abort = new AbortController();
    const jobs = createClient(JobService, transport);
    setError(null);
    (async () => {
      for await (const event of jobs.watch({ jobId }, { signal: abort.signal })) {
        if (event.job) setJob(event.job);
        const task = event.task;
        if (task) setTasks((prev) => new Map(prev).set(task.jobTaskId, task));
        if (event.job && TERMINAL.has(event.job.status)) void queryClient.invalidateQueries();
      }
    })().catch((err) => {
      if (!abort.signal.aborted) setError(err);
    });
    return () => abort.abort();
  }, [jobId, transport, queryClient, attempt]);

  const live = job && !TERMINAL.has(job.status);
  return (
    <Drawer title={`Job ${job?.name || jobId}`} onClose={onClose}>
      {error !== null && <ErrorPanel error={error} what="Following the job" onRetry={() => setAttempt((n) => n + 1)} />}
      {!job && error === null && <Loading label="Connecting to the job…" />}
      {job && (
        <>
          <p>
            <span className="status" data-testid="job-status">
              {Job_Status[job.status]}
            </span>{" "}
            {live && <span className="muted">live</span>}
          </p>
          <label>
            Progress {job.progress}%
            <progress max={100} value={job.progress} aria-label="Job progress" />
          </label>
          <PropList
            rows={[
              ["Tasks", `${job.succeededTaskCount} succeeded · ${job.failedTaskCount} failed · ${job.totalTaskCount} total`],
              ["Resources", `${job.createdCount} created · ${job.updatedCount} updated · ${job.deletedCount} deleted`],
              ["Errors", String(job.errorCount)],
              ["Started", formatTime(job.startedAt)],
              ["Finished", formatTime(job.finishedAt)],
            ]}
          />
          <h3>Tasks</h3>
          {tasks.size === 0 && <p className="muted">No task reported yet.</p>}
          <ul className="tasks">
            {[...tasks.values()].map((t) => (
              <li key={t.jobTaskId}>
                <strong>{t.serviceAccountId || t.jobTaskId}</strong> {JobTask_Status[t.status]} · {t.progress}% · {t.createdCount} created, {t.updatedCount} updated
                {t.errors.length > 0 && (
                  <ul className="task-errors" aria-label="Task errors">
                    {t.errors.map((e, i) => (
                      <li key={i}>{e}</li>
                    ))}
                  </ul>
                )}
              </li>
            ))}
          </ul>
        </>
      )}
    </Drawer>
  );
}
