import { keepPreviousData } from "@tanstack/react-query";
import { useQuery } from "@connectrpc/connect-query";
import { CostService, CostServiceAnalyzeRequest_Granularity as Granularity } from "@cloudforet/proto/cloudforet/cost/v1/cost_pb";
import { useState, type FormEvent } from "react";
import { useSearchParams } from "react-router";
import { BarChart } from "../components/BarChart";
import { ErrorPanel } from "../components/ErrorPanel";
import { Empty, Loading } from "../components/States";

const day = (d: Date) => d.toISOString().slice(0, 10);
const GROUPS = ["", "data_source_id", "resource_type", "region", "resource_id"];

/** CostService.Analyze by day or month, optionally by a key or tag, as a chart and a table. */
export default function CostsPage() {
  const [params, setParams] = useSearchParams();
  const end = params.get("end") ?? day(new Date());
  const start = params.get("start") ?? day(new Date(Date.now() - 29 * 86_400_000));
  const granularity = params.get("g") === "month" ? Granularity.MONTHLY : Granularity.DAILY;
  const by = params.get("by") ?? "";
  const set = (name: string, value: string) =>
    setParams((prev) => {
      const next = new URLSearchParams(prev);
      if (value) next.set(name, value);
      else next.delete(name);
      return next;
    });
  const analysis = useQuery(CostService.method.analyze, { granularity, start, end, groupBy: by ? [by] : [], page: { limit: 1000 } }, { placeholderData: keepPreviousData });
  const rows = analysis.data?.results ?? [];
  const currencies = [...new Set(rows.map((r) => r.currency))];
  const currency = currencies[0] ?? "";
  const chart = rows.filter((r) => r.currency === currency).map((r) => ({ x: r.date, series: by ? r.groups[by] ?? "" : currency, value: r.cost }));

  return (
    <div className="page">
      <header className="page-head">
        <h1>Costs</h1>
      </header>
      <div className="filter-form">
        <label>
          From
          <input type="date" value={start} onChange={(e) => set("start", e.target.value)} />
        </label>
        <label>
          To
          <input type="date" value={end} onChange={(e) => set("end", e.target.value)} />
        </label>
        <label>
          Period
          <select value={granularity === Granularity.MONTHLY ? "month" : "day"} onChange={(e) => set("g", e.target.value === "month" ? "month" : "")}>
            <option value="day">by day</option>
            <option value="month">by month</option>
          </select>
        </label>
        <GroupBy value={by} onChange={(v) => set("by", v)} />
      </div>
      {analysis.isPending && <Loading label="Analyzing costs…" />}
      {analysis.error && <ErrorPanel error={analysis.error} what="Analyzing costs" onRetry={() => analysis.refetch()} />}
      {analysis.data && rows.length === 0 && <Empty title="No costs in this period">Widen the dates, or ingest cost records (CostService.BatchCreate) first.</Empty>}
      {rows.length > 0 && (
        <>
          {currencies.length > 1 && <p className="muted">The chart shows {currency}; the table lists every currency (they are never added together).</p>}
          <section className="card">
            <BarChart data={chart} label={`Cost in ${currency} ${granularity === Granularity.MONTHLY ? "by month" : "by day"}${by ? ` by ${by}` : ""}`} />
          </section>
          <table className="grid" aria-label="Cost rows">
            <thead>
              <tr>
                <th scope="col">Period</th>
                {by && <th scope="col">{by}</th>}
                <th scope="col">Cost</th>
                <th scope="col">Currency</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((r, i) => (
                <tr key={i}>
                  <td>{r.date}</td>
                  {by && <td>{r.groups[by] || "(none)"}</td>}
                  <td className="num">{r.cost.toFixed(2)}</td>
                  <td>{r.currency}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </div>
  );
}

function GroupBy({ value, onChange }: { value: string; onChange: (v: string) => void }) {
  const [tag, setTag] = useState(value.startsWith("tags.") ? value.slice(5) : "");
  const submitTag = (e: FormEvent) => {
    e.preventDefault();
    if (tag.trim()) onChange(`tags.${tag.trim()}`);
  };
  return (
    <>
      <label>
        Group by
        <select value={value.startsWith("tags.") ? "tag" : value} onChange={(e) => e.target.value !== "tag" && onChange(e.target.value)}>
          {GROUPS.map((g) => (
            <option key={g} value={g}>
              {g || "nothing"}
            </option>
          ))}
          <option value="tag">a tag…</option>
        </select>
      </label>
      <form onSubmit={submitTag} className="filter-form">
        <label>
          Tag key
          <input value={tag} onChange={(e) => setTag(e.target.value)} placeholder="cluster" />
        </label>
        <button type="submit">Group by tag</button>
      </form>
    </>
  );
}
