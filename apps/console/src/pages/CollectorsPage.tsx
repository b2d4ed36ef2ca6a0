import { keepPreviousData } from "@tanstack/react-query";
import { useMutation, useQuery } from "@connectrpc/connect-query";
import { CollectorService } from "@cloudforet/proto/cloudforet/inventory/v1/collector_pb";
import { Job_Status, JobService } from "@cloudforet/proto/cloudforet/inventory/v1/job_pb";
import { ErrorPanel } from "../components/ErrorPanel";
import { Pager } from "../components/Pager";
import { SortHeader } from "../components/SortHeader";
import { Empty, Loading } from "../components/States";
import { formatTime } from "../lib/format";
import { listQuery } from "../lib/url-query";
import { useListParams } from "../lib/use-list-params";
import { JobWatch } from "./collectors/JobWatch";

const JOB_DEFAULTS = { sort: "-created_at", size: 15 };
const STATUSES = ["", "CREATED", "IN_PROGRESS", "FINISHED", "FAILURE", "CANCELED", "TIMEOUT"];

export default function CollectorsPage() {
  const list = useListParams(JOB_DEFAULTS);
  const { state, params } = list;
  const status = params.get("status") ?? "";
  const jobId = params.get("job");
  const collectors = useQuery(CollectorService.method.list, { query: { sort: { key: "name" }, page: { limit: 100 } } });
  const jobFilters = status ? [...state.filters, { key: "status", operator: "eq", value: status }] : state.filters;
  const jobs = useQuery(JobService.method.list, { query: listQuery({ ...state, filters: jobFilters }) }, { placeholderData: keepPreviousData, refetchInterval: 5_000 });
  const collect = useMutation(CollectorService.method.collect, { onSuccess: (res) => list.setParam("job", res.jobId) });

  return (
    <div className="page">
      <header className="page-head">
        <h1>Collectors & jobs</h1>
      </header>
      <section aria-label="Collectors">
        <h2>Collectors</h2>
        {collectors.isPending && <Loading />}
        {collectors.error && <ErrorPanel error={collectors.error} what="Listing collectors" onRetry={() => collectors.refetch()} />}
        {collect.error && <ErrorPanel error={collect.error} what="Starting the collection" />}
        {collectors.data?.results.length === 0 && <Empty title="No collectors yet">Register one with `cfctl apply -f examples/quickstart/` or CollectorService.Create.</Empty>}
        {!!collectors.data?.results.length && (
          <table className="grid">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Provider</th>
                <th scope="col">Mode</th>
                <th scope="col">Last collected</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {collectors.data.results.map((c) => (
                <tr key={c.collectorId}>
                  <td>{c.name || c.collectorId}</td>
                  <td>{c.provider}</td>
                  <td>{c.pluginInfo?.endpoint ? `pull · ${c.pluginInfo.endpoint}` : "push"}</td>
                  <td>{formatTime(c.lastCollectedAt)}</td>
                  <td>
                    <button type="button" disabled={collect.isPending} onClick={() => collect.mutate({ collectorId: c.collectorId })} aria-label={`Collect ${c.name || c.collectorId}`}>
                      Collect
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
      <section aria-label="Jobs">
        <h2>Jobs</h2>
        <label>
          Status
          <select value={status} onChange={(e) => list.setParam("status", e.target.value, true)}>
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {s || "any"}
              </option>
            ))}
          </select>
        </label>
        {jobs.isPending && <Loading />}
        {jobs.error && <ErrorPanel error={jobs.error} what="Listing jobs" onRetry={() => jobs.refetch()} />}
        {jobs.data?.results.length === 0 && <Empty title="No jobs">{status ? "No job has this status." : "Press Collect on a collector to start one."}</Empty>}
        {!!jobs.data?.results.length && (
          <>
            <table className="grid">
              <thead>
                <tr>
                  <SortHeader label="Job" field="name" sortKey={state.sortKey} desc={state.sortDesc} onSort={list.setSort} />
                  <th scope="col">Collector</th>
                  <SortHeader label="Status" field="status" sortKey={state.sortKey} desc={state.sortDesc} onSort={list.setSort} />
                  <th scope="col">Progress</th>
                  <th scope="col">Errors</th>
                  <SortHeader label="Created" field="created_at" sortKey={state.sortKey} desc={state.sortDesc} onSort={list.setSort} />
                </tr>
              </thead>
              <tbody>
                {jobs.data.results.map((j) => (
                  <tr key={j.jobId} aria-selected={j.jobId === jobId}>
                    <td>
                      <button type="button" className="link" onClick={() => list.setParam("job", j.jobId)}>
                        {j.name || j.jobId}
                      </button>
                    </td>
                    <td>{j.collectorId}</td>
                    <td>{Job_Status[j.status]}</td>
                    <td>{j.progress}%</td>
                    <td>{j.errorCount}</td>
                    <td>{formatTime(j.createdAt)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
            <Pager page={state.page} size={state.size} total={jobs.data.totalCount} onPage={list.setPage} />
          </>
        )}
      </section>
      {jobId && <JobWatch jobId={jobId} onClose={() => list.setParam("job", null)} />}
    </div>
  );
}
