import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { keepPreviousData, skipToken } from "@tanstack/react-query";
import { useQuery } from "@connectrpc/connect-query";
import { MetricService, MetricServiceGetDataRequest_Stat as Stat } from "@cloudforet/proto/cloudforet/monitoring/v1/metric_pb";
import { useMemo, useState, type FormEvent } from "react";
import { BarChart } from "../components/BarChart";
import { ErrorPanel } from "../components/ErrorPanel";
import { Empty, Loading } from "../components/States";
import { eq } from "../lib/filters";
import { useSearchSet } from "../lib/use-search-set";
import { isWindow, summarize, toBars, WINDOWS } from "./metrics/series";

const STATS = ["AVG", "MIN", "MAX", "SUM", "COUNT"] as const;

/** MetricService.GetData: one metric of one or more resources, bucketed over a chosen window, as charts. */
export default function MetricsPage() {
  const [params, set] = useSearchSet();
  const resources = (params.get("r") ?? "").split(",").map((s) => s.trim()).filter(Boolean);
  const metric = params.get("m") ?? "";
  const w = params.get("w");
  const win = isWindow(w) ? w : "1h";
  const statName = (STATS as readonly string[]).includes(params.get("stat") ?? "") ? (params.get("stat") as (typeof STATS)[number]) : "AVG";
  const [now, setNow] = useState(() => Date.now());
  const { seconds, period } = WINDOWS[win];
  // The window ends at the next bucket boundary, so re-renders ask for the same buckets.
  const end = useMemo(() => Math.ceil(now / (period * 1000)) * period * 1000, [now, period]);
  const ready = resources.length > 0 && metric !== "";
  const data = useQuery(
    MetricService.method.getData,
    ready ? { resourceIds: resources, metricName: metric, start: timestampFromMs(end - seconds * 1000), end: timestampFromMs(end), period, stat: Stat[statName] } : skipToken,
    { placeholderData: keepPreviousData },
  );
  // The metric names recently pushed for the first resource, as suggestions.
  const names = useQuery(
    MetricService.method.query,
    resources[0] ? { query: { filter: [eq("resource_id", resources[0])], only: ["metric_name"], sort: { key: "timestamp", desc: true }, page: { limit: 200 } } } : skipToken,
  );
  const suggestions = [...new Set(names.data?.results.map((m) => m.metricName) ?? [])];
  const series = data.data?.series ?? [];

  return (
    <div className="page">
      <header className="page-head">
        <h1>Metrics</h1>
      </header>
      <MetricForm resources={resources.join(", ")} metric={metric} suggestions={suggestions} onSubmit={(r, m) => set({ r, m })} />
      <div className="filter-form">
        <label>
          Window
          <select value={win} onChange={(e) => set({ w: e.target.value === "1h" ? "" : e.target.value })}>
            {Object.entries(WINDOWS).map(([key, w]) => (
              <option key={key} value={key}>
                {w.label}
              </option>
            ))}
          </select>
        </label>
        <label>
          Statistic
          <select value={statName} onChange={(e) => set({ stat: e.target.value === "AVG" ? "" : e.target.value })}>
            {STATS.map((s) => (
              <option key={s} value={s}>
                {s.toLowerCase()}
              </option>
            ))}
          </select>
        </label>
        <button type="button" onClick={() => setNow(Date.now())} disabled={!ready}>
          Refresh
        </button>
      </div>
      {!ready && <Empty title="Choose a resource and a metric">Enter a resource id (or several, separated by commas) and a metric name, e.g. cpu.utilization.</Empty>}
      {ready && data.isPending && <Loading label="Loading the series…" />}
      {data.error && <ErrorPanel error={data.error} what="Loading the metric" onRetry={() => data.refetch()} />}
      {ready && data.data && series.every((s) => s.points.length === 0) && <Empty title="No samples in this window">Widen the window, or check the resource id and metric name.</Empty>}
      {series
        .filter((s) => s.points.length > 0)
        .map((s) => {
          const sum = summarize(s.points)!;
          return (
            <section key={s.resourceId} className="card" aria-label={`Series of ${s.resourceId}`}>
              <h2>{s.resourceId}</h2>
              <p className="muted">
                latest {sum.latest.toFixed(2)} · min {sum.min.toFixed(2)} · max {sum.max.toFixed(2)} · {s.points.length} buckets of {period} s (UTC)
              </p>
              <BarChart data={toBars(s.points, metric, seconds)} label={`${metric} ${statName.toLowerCase()} of ${s.resourceId} over the ${WINDOWS[win].label}`} />
            </section>
          );
        })}
    </div>
  );
}

function MetricForm({ resources, metric, suggestions, onSubmit }: { resources: string; metric: string; suggestions: string[]; onSubmit: (r: string, m: string) => void }) {
  const [r, setR] = useState(resources);
  const [m, setM] = useState(metric);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    onSubmit(r.split(",").map((s) => s.trim()).filter(Boolean).join(","), m.trim());
  };
  return (
    <form onSubmit={submit} className="filter-form">
      <label>
        Resource ids
        <input value={r} onChange={(e) => setR(e.target.value)} required placeholder="vm-1, vm-2" />
      </label>
      <label>
        Metric
        <input value={m} onChange={(e) => setM(e.target.value)} required list="metric-names" placeholder="cpu.utilization" />
      </label>
      <datalist id="metric-names">
        {suggestions.map((s) => (
          <option key={s} value={s} />
        ))}
      </datalist>
      <button type="submit" className="primary">
        Show
      </button>
    </form>
  );
}
