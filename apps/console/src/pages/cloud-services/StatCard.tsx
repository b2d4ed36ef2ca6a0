import { useQuery } from "@connectrpc/connect-query";
import { CloudServiceService } from "@cloudforet/proto/cloudforet/cloud_service/v1/cloud_service_pb";
import { ErrorPanel } from "../../components/ErrorPanel";
import { Loading } from "../../components/States";
import { filterMessage, type FilterRow } from "../../lib/url-query";

export const GROUP_KEYS = ["cloud_service_type", "state", "provider", "account", "workspace_id"];

/** Counts of the filtered resources grouped by one key (CloudServiceService.Stat). */
export function StatCard({ filters, groupBy, onGroupBy }: { filters: FilterRow[]; groupBy: string; onGroupBy: (key: string) => void }) {
  const { data, error, isPending } = useQuery(CloudServiceService.method.stat, {
    query: {
      filter: filters.map(filterMessage),
      aggregate: [{ group: { keys: [groupBy] }, statistics: { count: { operator: "count" } } }],
      sort: { key: "count", desc: true },
      page: { limit: 8 },
    },
  });
  const rows = (data?.results ?? []).map((r) => {
    const { count, ...keys } = r as Record<string, unknown>;
    return { label: Object.values(keys).map((v) => (v === null || v === "" ? "(none)" : String(v))).join(" · ") || "(none)", count: Number(count ?? 0) };
  });
  const max = Math.max(1, ...rows.map((r) => r.count));
  return (
    <section className="card stat" aria-label="Statistics">
      <label>
        Group by
        <select value={groupBy} onChange={(e) => onGroupBy(e.target.value)}>
          {GROUP_KEYS.map((k) => (
            <option key={k}>{k}</option>
          ))}
        </select>
      </label>
      {isPending && <Loading />}
      {error && <ErrorPanel error={error} what="Statistics" />}
      <ul className="bars">
        {rows.map((r) => (
          <li key={r.label}>
            <span className="bar-label">{r.label}</span>
            <span className="bar" style={{ width: `${(r.count / max) * 100}%` }} />
            <span className="bar-value">{r.count}</span>
          </li>
        ))}
      </ul>
    </section>
  );
}
